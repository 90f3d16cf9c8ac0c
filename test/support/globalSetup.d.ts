/** The projects named by `--selectProjects` in `argv` (default: this process's); undefined when all run. */
export function selectedProjects(argv?: string[]): string[] | undefined;
export default function globalSetup(): Promise<void>;
