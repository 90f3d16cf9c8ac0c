/**
 * The enclave's boot: what it asks its parent for before the agent starts, through the same channel and proxy as
 * every other request (the parent answers requests to {@link BOOT_ORIGIN} itself; see ./bootService.ts).
 *
 * 1. `GET {BOOT_ORIGIN}/v1/enclave/boot`: the worker's non-secret settings (API URL, worker id, modes, timings),
 *    an allowlist ({@link ENCLAVE_BOOT_VARIABLES}; any other name, the operator key above all, is refused), and
 *    whether a sealed operator key is on offer. Variables set in the enclave image's own environment win over the
 *    parent's (a release may pin `PROVENA_API_URL` and `PROVENA_WORKER_ATTESTOR` in the image: they are then part of
 *    PCR0).
 * 2. The operator key, when sealed: the enclave generates an RSA-2048 key pair in its memory, attests the public key
 *    (NSM `public_key` = its DER SPKI, a fresh nonce), and posts the attestation document to
 *    `{BOOT_ORIGIN}/v1/enclave/operator-key`. The parent calls KMS `Decrypt` with `Recipient` (it holds the AWS
 *    credentials, the enclave has none); KMS checks the document against the key policy
 *    (`kms:RecipientAttestation:ImageSha384` = the EIF's PCR0) and answers `CiphertextForRecipient`, CMS to the
 *    enclave's RSA key, which only the enclave opens. Nothing secret crosses the parent: the ciphertext it stores,
 *    the attestation document and the CMS envelope are all useless without the enclave's RSA key.
 *
 * The operator key cannot simply be generated in the enclave: the API allowlists operator addresses
 * (`PROVENA_WORKER_OPERATORS`), so it is a standing identity; the per-job worker key is generated and attested
 * in the enclave already (agent.ts). Without a sealed key the enclave reads `PROVENA_WORKER_OPERATOR_KEY` from its
 * own environment (local pair, development).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { PrivateKey } from '../../../shared/configFields.js';
import { openCiphertextForRecipient } from '../../../shared/crypto/cmsEnvelope.js';
import { ProvenaError } from '../../../shared/errors.js';
import type { Attestor } from '../attestor.js';

/** The origin the parent serves itself (never resolved: the parent's proxy answers it before any network). */
export const BOOT_ORIGIN = 'http://parent.provena.internal';

/** The settings a parent may hand its enclave: none secret, none that widens what the enclave trusts. */
export const ENCLAVE_BOOT_VARIABLES = [
  'PROVENA_API_URL',
  'PROVENA_WORKER_ID',
  'PROVENA_WORKER_MODES',
  'PROVENA_WORKER_ATTESTOR',
  'PROVENA_WORKER_DEV_ROOT_DIR',
  'PROVENA_TRAINER_DEVICE',
  'PROVENA_WORKER_CHECKPOINT_EVERY_STEPS',
  'PROVENA_WORKER_REPORT_MIN_SECONDS',
  'PROVENA_WORKER_HEARTBEAT_SECONDS',
  'PROVENA_WORKER_LEASE_WAIT_SECONDS',
  'PROVENA_WORKER_ONCE',
  'PROVENA_WORKER_NOTICE_MARGIN_SECONDS',
] as const;

/** `GET /v1/enclave/boot`'s answer. */
export const EnclaveBoot = z.strictObject({
  env: z.partialRecord(z.enum(ENCLAVE_BOOT_VARIABLES), z.string().max(4096)),
  /** `sealed`: the parent holds a KMS ciphertext of the operator key and will ask KMS to release it to this enclave. */
  operatorKey: z.enum(['sealed', 'none']),
});
export type EnclaveBoot = z.output<typeof EnclaveBoot>;

/** `POST /v1/enclave/operator-key`'s body and answer. */
export const OperatorKeyRequest = z.strictObject({ attestationDocument: z.base64().max(32_768) });
export const OperatorKeyAnswer = z.strictObject({ ciphertextForRecipient: z.base64().max(65_536) });

/** The purpose the operator key's ciphertext is bound to (KMS encryption context). */
export const OPERATOR_KEY_CONTEXT = { 'provena:purpose': 'worker-operator-key' } as const;

async function answer(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) {
    let code = 'HTTP';
    let message = text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? message;
    } catch {
      // not JSON
    }
    throw new ProvenaError(what === 'boot' ? 'WORKER_BOOT_INVALID' : 'WORKER_OPERATOR_KEY_UNAVAILABLE', `the parent answered ${res.status} to ${what}: ${code}: ${message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProvenaError('WORKER_BOOT_INVALID', `the parent's ${what} answer is not JSON`);
  }
}

/** Asks the parent for the boot settings. @throws `WORKER_BOOT_INVALID` (a name outside the allowlist, a bad shape). */
export async function fetchEnclaveBoot(f: typeof fetch): Promise<EnclaveBoot> {
  const res = await f(`${BOOT_ORIGIN}/v1/enclave/boot`);
  const parsed = EnclaveBoot.safeParse(await answer(res, 'boot'));
  if (!parsed.success) throw new ProvenaError('WORKER_BOOT_INVALID', `the parent's boot settings are refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * The enclave's environment: the parent's allowlisted settings under the image's own (the image wins).
 */
export function mergeBootEnv(boot: EnclaveBoot, own: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...boot.env, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined && v !== '')) };
}

/**
 * Gets the operator key released by KMS to this enclave (see the module comment).
 *
 * @returns the key as `0x` + 64 hex.
 * @throws `WORKER_OPERATOR_KEY_UNAVAILABLE` when the parent or KMS refuses; `KEY_UNWRAP_FAILED` when the envelope
 *   does not open with this enclave's key.
 */
export async function provisionOperatorKey(o: { fetch: typeof fetch; attestor: Attestor }): Promise<string> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const { evidence } = await o.attestor.attest({ publicKey: spki.toString('hex'), nonce: randomBytes(32).toString('hex') });
  const document = evidence.documents.document;
  if (document === undefined) throw new ProvenaError('WORKER_OPERATOR_KEY_UNAVAILABLE', `the ${o.attestor.kind} attestor gave no attestation document`);
  const res = await o.fetch(`${BOOT_ORIGIN}/v1/enclave/operator-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(OperatorKeyRequest.parse({ attestationDocument: document })),
  });
  const parsed = OperatorKeyAnswer.safeParse(await answer(res, 'operator-key'));
  if (!parsed.success) throw new ProvenaError('WORKER_OPERATOR_KEY_UNAVAILABLE', 'the parent\'s operator-key answer has no CiphertextForRecipient');
  const plaintext = openCiphertextForRecipient(Buffer.from(parsed.data.ciphertextForRecipient, 'base64'), privateKey);
  try {
    // Sealed either as the 32 raw bytes or as the text `0x…` (what `aws kms encrypt --plaintext fileb://` of either gives).
    const key = plaintext.length === 32 ? `0x${plaintext.toString('hex')}` : plaintext.toString('utf8').trim();
    const ok = PrivateKey.safeParse(key);
    if (!ok.success) throw new ProvenaError('WORKER_OPERATOR_KEY_UNAVAILABLE', 'the released operator key is neither 32 bytes nor 0x + 64 hex');
    return ok.data;
  } finally {
    plaintext.fill(0);
  }
}
