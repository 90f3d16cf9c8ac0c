/**
 * Attestors: what produces the evidence that binds the worker's fresh key to the API's nonce (THE binding rule:
 * shared/attestation/types.ts). The agent depends on the {@link Attestor} interface only.
 *
 * - `dev` ({@link devAttestor}): the development attestor of the embedded stack (Nitro format, development root
 *   under `.provena/`); accepted only by the development policy.
 * - `nitro-nsm` ({@link nsmAttestor}): inside a Nitro enclave, the NSM `Attestation` request through `/dev/nsm`
 *   (nsm/nsmClient.ts; the ioctl by nsm/nsm_ioctl.py) with `public_key` = the worker key bytes and `nonce` = the
 *   API nonce; the returned COSE_Sign1 document, checked to bind both, is wrapped as
 *   `{kind: 'nitro', documents: {document}}`; measurement = PCR0. (When `public_key` must hold KMS's RSA recipient
 *   key, `user_data` = SHA-512(key ‖ nonce) carries the binding instead.)
 * - `tsm` ({@link tsmAttestor}, tsm/): in a TDX or SEV-SNP confidential VM, Linux configfs-tsm: a fresh report
 *   directory under `PROVENA_TSM_ROOT` (default /sys/kernel/config/tsm/report), the 64-byte
 *   `bindingDigest(key, nonce)` written to `inblob`, `outblob` (TDX quote v4/v5 or SNP report) and `auxblob` (SNP
 *   certificate table: VCEK/ASK/ARK) read back under an unchanged `generation`, TDX collateral from Intel PCS
 *   (`PROVENA_TSM_PCS_URL`), then the NVIDIA GPU report through NVML (tsm/nvml_report.py, pynvml) with the first
 *   32 bytes of the digest as SPDM nonce; wrapped as `{kind: 'tdx'|'sev-snp', documents, gpu: {kind:
 *   'nvidia-gpu', documents: {report, certChain}}}`; measurement = MRTD / MEASUREMENT.
 */
import { DevAttestor, devPcrs } from '../../shared/attestation/devAttestor.js';
import type { EvidenceBundle } from '../../shared/attestation/types.js';
import { ProvenaError } from '../../shared/errors.js';
import type { WorkerMode } from '../../shared/schemas/attestation.js';
import type { AttestorKind } from './config.js';
import { ioctlTransport } from './nsm/ioctlTransport.js';
import { nsmAttest, type NsmTransport } from './nsm/nsmClient.js';
import { tsmAttestor, tsmProviderFrom } from './tsm/tsmAttestor.js';

/** Evidence for one key and nonce, plus the measurement the receipt records. */
export interface Attestation {
  evidence: EvidenceBundle;
  /** Lowercase hex (Nitro PCR0, TDX MRTD, SNP MEASUREMENT, or the dev attestor's PCR0). */
  measurement: string;
}

/** Produces evidence binding `publicKey` (uncompressed secp256k1, 0x04…) and `nonce` (64 hex). */
export interface Attestor {
  readonly kind: AttestorKind;
  /** The worker mode this evidence proves. */
  readonly mode: WorkerMode;
  attest(input: { publicKey: string; nonce: string }): Promise<Attestation>;
}

/** The development attestor, with its root kept in `rootDir` (the embedded stack's `.provena`). */
export function devAttestor(rootDir: string, now: () => Date = () => new Date()): Attestor {
  const dev = DevAttestor.open(rootDir, { now: now() });
  const measurement = (devPcrs().get(0) as Buffer).toString('hex');
  return {
    kind: 'dev',
    mode: 'nitro',
    async attest({ publicKey, nonce }) {
      return { evidence: dev.bundle({ nonce, publicKey: publicKey.replace(/^0x/, ''), now: now() }), measurement };
    },
  };
}

/** The real enclave's attestor: NSM documents through `transport` (`/dev/nsm` by default). */
export function nsmAttestor(transport: NsmTransport = ioctlTransport()): Attestor {
  return {
    kind: 'nitro-nsm',
    mode: 'nitro',
    async attest({ publicKey, nonce }) {
      const { document, payload } = await nsmAttest(transport, { publicKey: Buffer.from(publicKey.replace(/^0x/, ''), 'hex'), nonce: Buffer.from(nonce, 'hex') });
      const pcr0 = payload.pcrs.get(0);
      if (!pcr0) throw new ProvenaError('WORKER_NSM_RESPONSE_INVALID', 'the NSM document has no PCR0');
      return { evidence: { kind: 'nitro', documents: { document: document.toString('base64') } }, measurement: pcr0.toString('hex') };
    },
  };
}

/**
 * The attestor the config names; `WORKER_ATTESTOR_UNAVAILABLE` for the ones this build does not include. `tsm`
 * reads `PROVENA_TSM_ROOT`, `PROVENA_TSM_PROVIDER` and `PROVENA_TSM_PCS_URL` from `env` (default process.env).
 */
export function attestorFor(kind: AttestorKind, opts: { devRootDir: string; env?: NodeJS.ProcessEnv }): Attestor {
  if (kind === 'dev') return devAttestor(opts.devRootDir);
  if (kind === 'nitro-nsm') return nsmAttestor();
  if (kind === 'tsm') {
    // Read here rather than in config.ts: only this attestor uses them (cgpu-worker.sh sets the provider).
    const env = opts.env ?? process.env;
    const provider = tsmProviderFrom(env['PROVENA_TSM_PROVIDER']);
    return tsmAttestor({
      ...(env['PROVENA_TSM_ROOT'] ? { root: env['PROVENA_TSM_ROOT'] } : {}),
      ...(provider === undefined ? {} : { expectedProvider: provider }),
      collateral: env['PROVENA_TSM_PCS_URL'] ? { pcsUrl: env['PROVENA_TSM_PCS_URL'] } : {},
    });
  }
  throw new ProvenaError('WORKER_ATTESTOR_UNAVAILABLE', `the ${kind} attestor is not built into this agent (see gpu-workers/agent/attestor.ts for how it plugs in)`);
}
