/** The trainer's source folder (gpu-workers/trainer). */
export declare const TRAINER_DIR: string;
/** The repository root. */
export declare const REPO_ROOT: string;
/** The pinned requirements the virtual environment is built from. */
export declare const REQUIREMENTS: string;
/** File inside the venv recording the sha256 of the requirements it was built from. */
export declare const STAMP_FILE: string;
/** The venv folder: PROVENA_TRAINER_VENV, or .provena/trainer-venv under the repository root. */
export declare function trainerVenvDir(env?: NodeJS.ProcessEnv): string;
/** The venv's Python interpreter. */
export declare function venvPython(venvDir: string): string;
/** sha256 (hex) of requirements.txt as it is now. */
export declare function requirementsHash(): string;
/** Whether the trainer can run, or why not (naming the command that fixes it). */
export declare function checkTrainerRuntime(
  env?: NodeJS.ProcessEnv,
): { ok: true; python: string; cwd: string } | { ok: false; reason: string };
