/**
 * Nitro mode on one machine: the parent and the enclave as two processes joined by a Unix socket (the same code as
 * in the cloud, where socat bridges each end to AF_VSOCK). What the Nitro end-to-end test starts; each process runs
 * in its own group, and the parent gets no operator key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface LocalNitroOptions {
  apiUrl: string;
  operatorKey: string;
  devRootDir: string;
  /** The Unix socket joining the two (≤ 107 bytes). */
  socket: string;
  workerId?: string;
  /** Extra variables for the enclave (PROVENA_WORKER_*). */
  enclaveEnv?: Record<string, string>;
  /** Extra variables for the parent (PROVENA_PARENT_*). */
  parentEnv?: Record<string, string>;
  onLog?: (side: 'enclave' | 'parent', line: string) => void;
}

/** One running process of the pair. */
export interface Side {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

function start(script: string, env: NodeJS.ProcessEnv, onLine: (l: string) => void): Side {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gpu-workers', 'agent', 'nitro', script)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail += s;
    const lines = tail.split('\n');
    tail = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  return {
    child,
    exited,
    signal(sig) {
      try {
        if (child.pid) process.kill(sig === 'SIGKILL' ? -child.pid : child.pid, sig);
      } catch {
        // already gone
      }
    },
  };
}

/** Starts the parent, then the enclave (which retries until the parent listens). */
export function startLocalNitroPair(o: LocalNitroOptions): { parent: Side; enclave: Side } {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PROVENA_NITRO_SOCKET: o.socket };
  const parent = start(
    'parent.ts',
    { ...base, ...(process.env.PROVENA_TRAINER_VENV ? { PROVENA_TRAINER_VENV: process.env.PROVENA_TRAINER_VENV } : {}), ...o.parentEnv },
    (l) => o.onLog?.('parent', l),
  );
  const enclave = start(
    'enclave.ts',
    {
      ...base,
      PROVENA_API_URL: o.apiUrl,
      PROVENA_WORKER_OPERATOR_KEY: o.operatorKey,
      PROVENA_WORKER_DEV_ROOT_DIR: o.devRootDir,
      PROVENA_WORKER_ID: o.workerId ?? 'local-nitro-worker',
      PROVENA_WORKER_ATTESTOR: 'dev',
      PROVENA_WORKER_MODES: 'nitro',
      PROVENA_TRAINER_DEVICE: 'cpu',
      ...o.enclaveEnv,
    },
    (l) => o.onLog?.('enclave', l),
  );
  return { parent, enclave };
}
