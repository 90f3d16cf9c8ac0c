/**
 * Configuration of the two Nitro-mode processes, read once from the environment and parsed with zod (failing with a
 * message naming each bad variable). The enclave reads the worker's variables (../config.ts) plus its socket; the
 * parent reads only its own: it is never given the operator key.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { HttpUrl, parseConfig } from '../../../shared/configFields.js';
import { WorkerConfigSchema } from '../config.js';

/** A Unix socket path (the local end of the vsock bridge; see ./README.md). */
const SocketPath = z.string().min(1).max(107);

/** The enclave process: the worker agent's variables plus the channel. */
export const EnclaveConfigSchema = WorkerConfigSchema.extend({
  /** The Unix socket that reaches the parent (inside the enclave: socat's `UNIX-LISTEN` end of `VSOCK-CONNECT:3:PORT`). */
  PROVENA_NITRO_SOCKET: SocketPath,
  /** Seconds to keep retrying the connection at start (the bridge may come up after the agent). */
  PROVENA_NITRO_CONNECT_SECONDS: z.coerce.number().min(0).max(600).default(30),
});
export type EnclaveConfig = z.output<typeof EnclaveConfigSchema>;

/** The parent process. */
export const ParentConfigSchema = z.object({
  /** The Unix socket the parent listens on (socat's `UNIX-CONNECT` end of `VSOCK-LISTEN:PORT`). */
  PROVENA_NITRO_SOCKET: SocketPath,
  /** Where the trainer writes checkpoints and the model before they go to the enclave (deleted once sent). */
  PROVENA_PARENT_WORK_DIR: z.string().min(1).default(join(tmpdir(), 'provena-parent')),
  /** Origins the proxy may reach, comma-separated (the API's and the bucket's); unset: any http(s) origin. */
  PROVENA_PARENT_PROXY_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o.length > 0).map((o) => new URL(o).origin))
    .optional(),
  /** Audit/test only: append everything the parent receives (enclave frames, decoded chunks, response bodies) here. */
  PROVENA_PARENT_TAP_FILE: z.string().min(1).optional(),
  /** Torch threads on CPU. */
  PROVENA_TRAINER_THREADS: z.coerce.number().int().min(1).max(256).default(1),
  /** EC2 instance metadata (IMDSv2), polled for spot notices that are forwarded to the enclave; unset: none. */
  PROVENA_WORKER_IMDS_URL: HttpUrl.optional(),
  PROVENA_WORKER_IMDS_POLL_SECONDS: z.coerce.number().min(0.05).max(60).default(5),
});
export type ParentConfig = z.output<typeof ParentConfigSchema>;

/** @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable. */
export const loadEnclaveConfig = (env: Record<string, string | undefined> = process.env): EnclaveConfig => parseConfig(EnclaveConfigSchema, env);
/** @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable. */
export const loadParentConfig = (env: Record<string, string | undefined> = process.env): ParentConfig => parseConfig(ParentConfigSchema, env);
