/**
 * The worker agent's configuration: read once at start from the environment, parsed with zod, failing with a
 * message naming each bad variable (shared/configFields.ts `parseConfig`).
 */
import { constants } from 'node:buffer';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { HttpUrl, PrivateKey, parseConfig } from '../../shared/configFields.js';
import { WorkerMode } from '../../shared/schemas/attestation.js';

/** Which attestor produces the evidence (see attestor.ts: `dev` and `nitro-nsm` are built; `tsm` is not). */
export const AttestorKind = z.enum(['dev', 'nitro-nsm', 'tsm']);
export type AttestorKind = z.output<typeof AttestorKind>;

const Modes = z
  .string()
  .transform((s) => s.split(',').map((m) => m.trim()).filter((m) => m.length > 0))
  .pipe(z.array(WorkerMode).min(1).max(2));

/** The environment variables of `provena-worker`. */
export const WorkerConfigSchema = z.object({
  /** The Provena API, e.g. `http://127.0.0.1:8787`. */
  PROVENA_API_URL: HttpUrl,
  /** The operator's request-signing key (its address must be in the API's PROVENA_WORKER_OPERATORS). */
  PROVENA_WORKER_OPERATOR_KEY: PrivateKey,
  /** A name for logs and leases. */
  PROVENA_WORKER_ID: z.string().min(1).max(128).default(hostname().slice(0, 128) || 'worker'),
  /** Modes this worker can attest in (comma-separated). */
  PROVENA_WORKER_MODES: Modes.default(['nitro']),
  PROVENA_WORKER_ATTESTOR: AttestorKind.default('dev'),
  /** Where the development attestor keeps its root (the embedded stack's `.provena`). */
  PROVENA_WORKER_DEV_ROOT_DIR: z.string().min(1).default('.provena'),
  /**
   * Scratch space for the trainer's checkpoints and model (plaintext): a tmpfs in production (`/dev/shm/...`
   * or a RAM-backed mount inside the TEE); a fresh temp folder under it per job, removed afterwards.
   */
  PROVENA_WORKER_WORK_DIR: z.string().min(1).default(join(tmpdir(), 'provena-worker')),
  /**
   * The most plaintext bytes of a job's datasets this worker holds (they are decrypted into memory: nothing touches
   * a disk). A job over more fails with `WORKER_DATA_TOO_LARGE` before any data key is requested, and a data
   * version whose manifest is larger before its key is opened or its ciphertext downloaded. Default: a quarter of
   * this machine's memory ({@link defaultMaxDataBytes}); the rows parsed from the plaintext and the trainer need
   * the rest.
   */
  PROVENA_WORKER_MAX_DATA_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(() => defaultMaxDataBytes()),
  /** The trainer's device. */
  PROVENA_TRAINER_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** The trainer checkpoints every this many optimizer steps (0: only at epoch ends). */
  PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: z.coerce.number().int().min(0).max(1_000_000).default(50),
  /**
   * Least seconds between two usage reports while training (each is a transaction): a report waits for the one in
   * flight and for this interval, and a newer committed checkpoint replaces a waiting one. The final report pays
   * everything whatever this is.
   */
  PROVENA_WORKER_REPORT_MIN_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  /** Renew the lease at least this often (seconds; the lease's own `heartbeatSeconds` when shorter). */
  PROVENA_WORKER_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3600).default(20),
  /** Long-poll for a job this long per lease request (seconds). */
  PROVENA_WORKER_LEASE_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
  /** Take one job (or none) and exit, instead of looping. */
  PROVENA_WORKER_ONCE: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
  /** EC2 instance metadata (IMDSv2) base URL, polled for spot interruption notices; unset: no polling. */
  PROVENA_WORKER_IMDS_URL: HttpUrl.optional(),
  PROVENA_WORKER_IMDS_POLL_SECONDS: z.coerce.number().min(0.05).max(60).default(5),
  /**
   * Seconds before a notice's deadline under which the agent stops at once and relies on the last committed
   * checkpoint rather than wait for the next one (spot notices give 120 s; a local SIGTERM counts as 30 s).
   */
  PROVENA_WORKER_NOTICE_MARGIN_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
});
export type WorkerConfig = z.output<typeof WorkerConfigSchema>;

/**
 * A quarter of this machine's memory: the default of `PROVENA_WORKER_MAX_DATA_BYTES`. One dataset is further
 * bounded by the largest buffer Node allocates (`buffer.constants.MAX_LENGTH`).
 */
export function defaultMaxDataBytes(memoryBytes: number = totalmem()): number {
  return Math.max(1, Math.floor(memoryBytes / 4));
}

/** The most plaintext bytes one dataset of a job may hold on this worker: the job's budget, within one buffer. */
export function maxDatasetBytes(config: Pick<WorkerConfig, 'PROVENA_WORKER_MAX_DATA_BYTES'>): number {
  return Math.min(config.PROVENA_WORKER_MAX_DATA_BYTES, constants.MAX_LENGTH);
}

/**
 * The agent's configuration from `env`.
 *
 * @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable.
 */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseConfig(WorkerConfigSchema, env);
}
