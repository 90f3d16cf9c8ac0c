/**
 * The parent's side of the enclave's boot (./boot.ts): a `fetch` that answers requests to {@link BOOT_ORIGIN}
 * itself and passes every other one to the network. It hands the enclave the allowlisted settings from its own
 * environment and, when it holds the KMS ciphertext of the operator key, calls KMS `Decrypt` with the enclave's
 * attestation document as `Recipient`: KMS answers `CiphertextForRecipient` only (CMS to the enclave's RSA key),
 * so the parent never sees the key. A `Plaintext` in KMS's answer (a key policy without the Recipient condition)
 * is refused and wiped, not forwarded.
 */
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { BOOT_ORIGIN, ENCLAVE_BOOT_VARIABLES, OPERATOR_KEY_CONTEXT, OperatorKeyRequest, type EnclaveBoot } from './boot.js';

/** What the boot service needs. */
export interface BootServiceOptions {
  /** The parent's environment: the allowlisted variables are served from it. */
  env: Record<string, string | undefined>;
  /** The operator key sealed under KMS, and the client that may ask KMS to release it to an attested enclave. */
  sealedOperatorKey?: { ciphertext: Buffer; keyId?: string; kms: KMSClient };
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The settings served to the enclave: the allowlisted names set in `env`. */
export function bootSettings(o: Pick<BootServiceOptions, 'env' | 'sealedOperatorKey'>): EnclaveBoot {
  const env: EnclaveBoot['env'] = {};
  for (const name of ENCLAVE_BOOT_VARIABLES) {
    const v = o.env[name];
    if (v !== undefined && v !== '') env[name] = v;
  }
  return { env, operatorKey: o.sealedOperatorKey ? 'sealed' : 'none' };
}

/** `next` with {@link BOOT_ORIGIN} answered here. */
export function withBootService(o: BootServiceOptions, next: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin !== BOOT_ORIGIN) return next(req);
    if (req.method === 'GET' && url.pathname === '/v1/enclave/boot') {
      o.log('boot settings sent to the enclave', { variables: Object.keys(bootSettings(o).env) });
      return json(200, bootSettings(o));
    }
    if (req.method === 'POST' && url.pathname === '/v1/enclave/operator-key') {
      const sealed = o.sealedOperatorKey;
      if (!sealed) return json(404, { code: 'NOT_SEALED', message: 'this parent holds no sealed operator key (PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT)' });
      let body;
      try {
        body = OperatorKeyRequest.parse(await req.json());
      } catch {
        return json(400, { code: 'BAD_REQUEST', message: 'expected {attestationDocument: base64}' });
      }
      try {
        const out = await sealed.kms.send(
          new DecryptCommand({
            CiphertextBlob: sealed.ciphertext,
            ...(sealed.keyId !== undefined && { KeyId: sealed.keyId }),
            EncryptionContext: { ...OPERATOR_KEY_CONTEXT },
            Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from(body.attestationDocument, 'base64') },
          }),
        );
        if (out.Plaintext) {
          out.Plaintext.fill(0);
          o.log('KMS answered the operator key in plaintext: refused (the key policy must require a Recipient attestation)');
          return json(502, { code: 'PLAINTEXT_REFUSED', message: 'KMS returned a plaintext, not CiphertextForRecipient' });
        }
        if (!out.CiphertextForRecipient) return json(502, { code: 'KMS_EMPTY', message: 'KMS returned no CiphertextForRecipient' });
        o.log('operator key released by KMS to the attested enclave');
        return json(200, { ciphertextForRecipient: Buffer.from(out.CiphertextForRecipient).toString('base64') });
      } catch (e) {
        const err = e as { name?: string; message?: string };
        o.log('KMS refused the operator key', { kms: err.name, error: err.message });
        return json(403, { code: err.name ?? 'KMS', message: String(err.message ?? e).slice(0, 500) });
      }
    }
    return json(404, { code: 'NOT_FOUND', message: `${req.method} ${url.pathname}` });
  };
}
