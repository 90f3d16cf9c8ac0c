// Where the trainer's Python environment lives and whether it is ready: one definition, read by
// scripts/setup-trainer.mjs (which builds it on `npm install`) and by the agent (which refuses to start without it).
// Plain ESM JavaScript so that `npm install` can run it without tsx; types in runtime.d.mts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The trainer's source folder (gpu-workers/trainer). */
export const TRAINER_DIR = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const REPO_ROOT = resolve(TRAINER_DIR, '..', '..');
/** The pinned requirements the virtual environment is built from. */
export const REQUIREMENTS = join(TRAINER_DIR, 'requirements.txt');
/** File inside the venv recording the sha256 of the requirements it was built from. */
export const STAMP_FILE = '.provena-requirements.sha256';

/** The venv folder: PROVENA_TRAINER_VENV, or .provena/trainer-venv under the repository root. */
export function trainerVenvDir(env = process.env) {
  return env.PROVENA_TRAINER_VENV ? resolve(env.PROVENA_TRAINER_VENV) : join(REPO_ROOT, '.provena', 'trainer-venv');
}

/** The venv's Python interpreter. */
export function venvPython(venvDir) {
  return process.platform === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
}

/** sha256 (hex) of requirements.txt as it is now. */
export function requirementsHash() {
  return createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
}

/**
 * Whether the trainer can run: `{ok: true, python, cwd}` (spawn `python -m provena_trainer` in cwd) or
 * `{ok: false, reason}` naming what is missing and the command that fixes it.
 */
export function checkTrainerRuntime(env = process.env) {
  const venv = trainerVenvDir(env);
  const python = venvPython(venv);
  const fix = 'run `npm run setup:trainer` (needs Python >= 3.11)';
  if (!existsSync(python)) return { ok: false, reason: `no trainer environment at ${venv}: ${fix}` };
  const stamp = join(venv, STAMP_FILE);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== requirementsHash()) {
    return { ok: false, reason: `the trainer environment at ${venv} is not built from the current requirements.txt: ${fix}` };
  }
  return { ok: true, python, cwd: TRAINER_DIR };
}
