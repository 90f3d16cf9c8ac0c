/**
 * Nitro mode on one machine: the parent and the enclave as two processes joined by a Unix socket (the same code as
 * in the cloud, where socat bridges each end to AF_VSOCK). What the Nitro end-to-end test starts; each process runs
 * in its own group, and the parent gets no operator key.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inheritedEnv, spawnAgentProcess } from '../localWorker.js';

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
  /** SIGKILL to its whole group. */
  kill(): void;
}

/** SIGKILL goes to the whole group (the parent's trainer along), any other signal to the process alone. */
function start(script: string, env: NodeJS.ProcessEnv, onLine: (l: string) => void): Side {
  const { child, exited, signal } = spawnAgentProcess(join('gpu-workers', 'agent', 'nitro', script), env, onLine);
  return { child, exited, signal: (sig) => signal(sig, sig === 'SIGKILL'), kill: () => signal('SIGKILL', true) };
}

/** Starts the parent, then the enclave (which retries until the parent listens). */
export function startLocalNitroPair(o: LocalNitroOptions): { parent: Side; enclave: Side } {
  const base: NodeJS.ProcessEnv = { ...inheritedEnv(false), PROVENA_NITRO_SOCKET: o.socket };
  const parent = start(
    'parent.ts',
    { ...inheritedEnv(true), PROVENA_NITRO_SOCKET: o.socket, ...o.parentEnv },
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
