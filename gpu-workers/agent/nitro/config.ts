/**
 * Configuration of the two Nitro-mode processes, read once from the environment and parsed with zod (failing with a
 * message naming each bad variable). The enclave reads the worker's variables (../config.ts) plus its socket; the
 * parent reads only its own: it is never given the operator key.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { HttpUrl, parseConfig } from '../../../shared/configFields.js';
import { ConfigError } from '../../../shared/errors.js';
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

/** What the enclave reads before its boot (./boot.ts): where the parent is, and where its settings come from. */
export const EnclaveBootstrapSchema = z.object({
  PROVENA_NITRO_SOCKET: SocketPath,
  PROVENA_NITRO_CONNECT_SECONDS: z.coerce.number().min(0).max(600).default(30),
  /**
   * `env`: every setting from this process's environment (the local pair, development). `parent`: the non-secret
   * settings from the parent and the operator key released by KMS to this enclave's attestation (an EIF on EC2).
   */
  PROVENA_ENCLAVE_BOOT: z.enum(['env', 'parent']).default('env'),
});
export type EnclaveBootstrap = z.output<typeof EnclaveBootstrapSchema>;

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
  /**
   * The operator key encrypted under KMS (base64 `CiphertextBlob`, encryption context
   * `provena:purpose=worker-operator-key`): released only to an enclave whose attestation the key policy admits
   * (./boot.ts). Not secret. Unset: the enclave must have its own `PROVENA_WORKER_OPERATOR_KEY` (local pair).
   */
  PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: z.base64().min(8).optional(),
  /** The KMS key of that ciphertext (id or ARN); optional, KMS reads it from the blob. */
  PROVENA_WORKER_OPERATOR_KMS_KEY_ID: z.string().min(1).max(2048).optional(),
  /** KMS endpoint override (a VPC endpoint; locally an in-process KMS). Unset: the region's. */
  PROVENA_KMS_ENDPOINT: HttpUrl.optional(),
});
export type ParentConfig = z.output<typeof ParentConfigSchema>;

/** @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable. */
export const loadEnclaveConfig = (env: Record<string, string | undefined> = process.env): EnclaveConfig => parseConfig(EnclaveConfigSchema, env);
/**
 * @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable, and when the parent's environment holds
 *   `PROVENA_WORKER_OPERATOR_KEY` (the parent is untrusted: it must never be given the key).
 */
export const loadParentConfig = (env: Record<string, string | undefined> = process.env): ParentConfig => {
  if (env.PROVENA_WORKER_OPERATOR_KEY !== undefined && env.PROVENA_WORKER_OPERATOR_KEY !== '') {
    throw new ConfigError('PROVENA_WORKER_OPERATOR_KEY is set in the parent\'s environment: the parent must never hold the operator key (seal it: PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT)', [
      { path: ['PROVENA_WORKER_OPERATOR_KEY'], message: 'must not be set on the parent' },
    ]);
  }
  return parseConfig(ParentConfigSchema, env);
};
/** @throws ConfigError (`CONFIG_INVALID`) naming each bad or missing variable. */
export const loadEnclaveBootstrap = (env: Record<string, string | undefined> = process.env): EnclaveBootstrap => parseConfig(EnclaveBootstrapSchema, env);
