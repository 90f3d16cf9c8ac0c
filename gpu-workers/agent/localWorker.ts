/**
 * A worker as a child process (what `npm start` runs beside the embedded stack, and what the end-to-end test
 * starts and kills): `node --import tsx gpu-workers/agent/main.ts` with its configuration in the environment.
 * It runs in its own process group, so that stopping it (or SIGKILL in a test) takes its trainer along.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalWorkerOptions {
  apiUrl: string;
  operatorKey: string;
  /** The stack's data dir: where the development attestor's root lives. */
  devRootDir: string;
  workerId?: string;
  /** Extra PROVENA_WORKER_* / PROVENA_TRAINER_* settings. */
  env?: Record<string, string>;
  /** Receives each log line (JSON) the worker writes. */
  onLog?: (line: string) => void;
}

/** A running local worker. */
export interface LocalWorker {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the agent (a graceful wind-down: checkpoint, report, release), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL to the whole process group (worker and trainer): a crash. */
  kill(): void;
}

/** One process of a local worker: `node --import tsx SCRIPT` in its own process group. */
export interface AgentProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `sig` to the process alone, or to its whole group (it and its trainer); a no-op once it is gone. */
  signal(sig: NodeJS.Signals, group: boolean): void;
}

/** This process's PATH and HOME (and trainer venv, with `trainer`): what a local worker process inherits, nothing else. */
export function inheritedEnv(trainer: boolean): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(trainer && process.env.PROVENA_TRAINER_VENV ? { PROVENA_TRAINER_VENV: process.env.PROVENA_TRAINER_VENV } : {}),
  };
}

/**
 * Spawns `script` (repo-relative) under tsx with exactly `env`, in its own process group, and hands each line it
 * writes to stderr (the agent's JSON log) to `onLine`; stdout is ignored.
 */
export function spawnAgentProcess(script: string, env: NodeJS.ProcessEnv, onLine?: (line: string) => void): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail += s;
    const lines = tail.split('\n');
    tail = lines.pop() ?? '';
    for (const l of lines) onLine?.(l);
  });
  return {
    child,
    exited,
    signal(sig, group) {
      try {
        if (child.pid) process.kill(group ? -child.pid : child.pid, sig);
      } catch {
        // already gone
      }
    },
  };
}

/** Starts a worker process against `apiUrl`. */
export function startLocalWorker(o: LocalWorkerOptions): LocalWorker {
  const env: NodeJS.ProcessEnv = {
    ...inheritedEnv(true),
    PROVENA_API_URL: o.apiUrl,
    PROVENA_WORKER_OPERATOR_KEY: o.operatorKey,
    PROVENA_WORKER_DEV_ROOT_DIR: o.devRootDir,
    PROVENA_WORKER_ID: o.workerId ?? 'local-worker',
    PROVENA_WORKER_ATTESTOR: 'dev',
    PROVENA_TRAINER_DEVICE: 'cpu',
    ...o.env,
  };
  const { child, exited, signal } = spawnAgentProcess(join('gpu-workers', 'agent', 'main.ts'), env, o.onLog);
  // SIGTERM goes to the agent alone (its trainer must live on to write the last checkpoint); SIGKILL to the group.
  return {
    child,
    exited,
    async stop(graceMs = 60_000) {
      signal('SIGTERM', false);
      const timer = setTimeout(() => signal('SIGKILL', true), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill: () => signal('SIGKILL', true),
  };
}
