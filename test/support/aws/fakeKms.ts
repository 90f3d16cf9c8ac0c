/**
 * What stands in for AWS KMS in tests (it has no emulator here): an in-process HTTP server that speaks KMS's wire
 * protocol (AWS JSON 1.1, `X-Amz-Target: TrentService.<Operation>`, base64 blobs, `__type` errors) for the few
 * operations Provena uses, doing the real cryptography, so the adapters are exercised through the real
 * `@aws-sdk/client-kms` client (signing, serialization, error mapping):
 *
 * - symmetric keys: Encrypt / GenerateDataKey / Decrypt with AES-256-GCM, the encryption context (canonical JSON)
 *   and key ARN as AAD, so a wrong context fails as KMS does (`InvalidCiphertextException`);
 * - key-agreement keys (ECC_NIST_P256): GetPublicKey (DER SPKI), DeriveSharedSecret (ECDH, raw x-coordinate);
 * - `Decrypt` with `Recipient`: the Nitro attestation document is verified (the project's Nitro verifier, trusting
 *   the roots given, as KMS trusts AWS's), its PCR0 checked against the key policy's approved `ImageSha384`, and
 *   the plaintext returned only as `CiphertextForRecipient`: CMS EnvelopedData (RSAES-OAEP-SHA-256, AES-256-CBC)
 *   to the document's public key;
 * - the gate key's policy (infra/lib/constructs/KeyGate.ts): Decrypt without an attestation of the approved image
 *   is refused (`AccessDeniedException`) unless the context says `provena:holders = true`; `exemptPrincipal`
 *   lifts that as the policy's `remoteWorkers` exemption does.
 *
 * Not imitated: IAM, grants, key states, aliases, multi-region keys, the ciphertext blob format (opaque anyway).
 */
import { createCipheriv, createDecipheriv, createECDH, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { verifyNitroDocument } from '../../../shared/attestation/nitro.js';
import { KMS_HOLDERS_CONTEXT_KEY } from '../../../shared/adapters/aws/KmsKeyGate.js';
import { buildEnvelopedData } from './cmsBuilder.js';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';

type FakeKey =
  | { kind: 'symmetric'; arn: string; id: string; material: Buffer; policy: { approvedImageSha384?: string; guardDecrypt: boolean } }
  | { kind: 'agreement'; arn: string; id: string; privateKey: KeyObject; publicKey: KeyObject };

/** Options of {@link FakeKms.start}. */
export interface FakeKmsOptions {
  /** SHA-256 fingerprints of the roots whose Nitro documents are accepted (tests: the development attestor's). */
  trustedRoots: readonly string[];
  now?: () => Date;
}

/** One request the fake received. */
export interface FakeKmsCall {
  operation: string;
  body: Record<string, unknown>;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (v: unknown, what: string): Buffer => {
  if (typeof v !== 'string') throw new KmsFault('ValidationException', `${what} is required`);
  return Buffer.from(v, 'base64');
};
/** The encryption context as AAD: sorted keys, so the order a client sends them in does not matter (as in KMS). */
const contextAad = (arn: string, ctx: unknown): Buffer => {
  const entries = Object.entries((ctx ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1));
  return Buffer.from(JSON.stringify([arn, entries]));
};

/** The fake KMS. See the module comment. */
export class FakeKms {
  readonly calls: FakeKmsCall[] = [];
  private readonly keys = new Map<string, FakeKey>();
  private readonly blobKeys = new Map<string, FakeKey>();
  private exempt = false;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly options: FakeKmsOptions,
  ) {}

  /** Starts the fake on 127.0.0.1 (a free port). */
  static async start(options: FakeKmsOptions): Promise<FakeKms> {
    let kms: FakeKms | undefined;
    const server = createServer((req, res) => void kms?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kms = new FakeKms(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    return kms;
  }

  /** A real SDK client pointed at this fake (static dummy credentials; the fake does not check signatures). */
  client(): KMSClient {
    return new KMSClient({ region: REGION, endpoint: this.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'AKIDFAKEKMS', secretAccessKey: 'fake-kms-secret' } });
  }

  private add(key: FakeKey): string {
    this.keys.set(key.arn, key);
    this.keys.set(key.id, key);
    return key.arn;
  }

  /**
   * A symmetric key. `guardDecrypt`: the gate key's policy (Decrypt only under an attestation of
   * `approvedImageSha384`, or for ciphertexts whose context says holders may have them).
   */
  createSymmetricKey(policy: { approvedImageSha384?: string; guardDecrypt?: boolean } = {}): string {
    const id = randomUUID();
    return this.add({ kind: 'symmetric', id, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`, material: randomBytes(32), policy: { ...policy, guardDecrypt: policy.guardDecrypt ?? true } });
  }

  /** An ECC_NIST_P256 key-agreement key. */
  createAgreementKey(): string {
    const id = randomUUID();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return this.add({ kind: 'agreement', id, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`, privateKey, publicKey });
  }

  /** The key policy exemption the stack makes for the releasing role when remote (TDX/SNP) workers are allowed. */
  exemptCallerFromDecryptGuard(exempt: boolean): void {
    this.exempt = exempt;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private key(id: unknown): FakeKey {
    const key = typeof id === 'string' ? this.keys.get(id) : undefined;
    if (key === undefined) throw new KmsFault('NotFoundException', `Key '${String(id)}' does not exist`);
    return key;
  }

  private symmetric(id: unknown): Extract<FakeKey, { kind: 'symmetric' }> {
    const key = this.key(id);
    if (key.kind !== 'symmetric') throw new KmsFault('InvalidKeyUsageException', `${key.arn} is not a symmetric ENCRYPT_DECRYPT key`);
    return key;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^TrentService\./, '');
    let status = 200;
    let out: Record<string, unknown>;
    try {
      if (!target.startsWith('TrentService.') || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        throw new KmsFault('UnrecognizedClientException', 'not a KMS JSON 1.1 request');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      this.calls.push({ operation, body });
      out = this.dispatch(operation, body);
    } catch (err) {
      status = err instanceof KmsFault && err.type !== 'KMSInternalException' ? 400 : 500;
      out = err instanceof KmsFault ? { __type: err.type, message: err.message } : { __type: 'KMSInternalException', message: String(err) };
    }
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(out));
  }

  private dispatch(op: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (op) {
      case 'DescribeKey': {
        const k = this.key(body.KeyId);
        const spec = k.kind === 'symmetric' ? { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } : { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' };
        return { KeyMetadata: { KeyId: k.id, Arn: k.arn, Enabled: true, KeyState: 'Enabled', AWSAccountId: ACCOUNT, ...spec } };
      }
      case 'GetPublicKey': {
        const k = this.key(body.KeyId);
        if (k.kind !== 'agreement') throw new KmsFault('UnsupportedOperationException', `${k.arn} is symmetric: it has no public key`);
        return { KeyId: k.arn, PublicKey: b64(k.publicKey.export({ format: 'der', type: 'spki' })), KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT', KeyAgreementAlgorithms: ['ECDH'] };
      }
      case 'DeriveSharedSecret': {
        const k = this.key(body.KeyId);
        if (k.kind !== 'agreement') throw new KmsFault('InvalidKeyUsageException', `${k.arn} is not a KEY_AGREEMENT key`);
        if (body.KeyAgreementAlgorithm !== 'ECDH') throw new KmsFault('ValidationException', 'KeyAgreementAlgorithm must be ECDH');
        let peer: KeyObject;
        try {
          peer = createPublicKey({ key: unb64(body.PublicKey, 'PublicKey'), format: 'der', type: 'spki' });
        } catch {
          throw new KmsFault('ValidationException', 'PublicKey is not a DER-encoded SubjectPublicKeyInfo');
        }
        if (peer.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new KmsFault('ValidationException', 'PublicKey is not on the key\'s curve');
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(Buffer.from(k.privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
        const jwk = peer.export({ format: 'jwk' });
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
        return { KeyId: k.arn, SharedSecret: b64(ecdh.computeSecret(point)), KeyAgreementAlgorithm: 'ECDH', KeyOrigin: 'AWS_KMS' };
      }
      case 'Encrypt':
        return { ...this.encrypt(this.symmetric(body.KeyId), unb64(body.Plaintext, 'Plaintext'), body.EncryptionContext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      case 'GenerateDataKey': {
        if (body.KeySpec !== 'AES_256' && body.NumberOfBytes === undefined) throw new KmsFault('ValidationException', 'KeySpec or NumberOfBytes is required');
        const plaintext = randomBytes(body.KeySpec === 'AES_256' ? 32 : Number(body.NumberOfBytes));
        return { ...this.encrypt(this.symmetric(body.KeyId), plaintext, body.EncryptionContext), Plaintext: b64(plaintext) };
      }
      case 'Decrypt':
        return this.decrypt(body);
      default:
        throw new KmsFault('UnsupportedOperationException', `the fake KMS does not implement ${op}`);
    }
  }

  private encrypt(key: Extract<FakeKey, { kind: 'symmetric' }>, plaintext: Buffer, context: unknown): Record<string, unknown> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key.material, iv);
    c.setAAD(contextAad(key.arn, context));
    const blob = Buffer.concat([Buffer.from(key.id, 'utf8'), iv, c.update(plaintext), c.final(), c.getAuthTag()]);
    return { CiphertextBlob: b64(blob), KeyId: key.arn };
  }

  private decrypt(body: Record<string, unknown>): Record<string, unknown> {
    const blob = unb64(body.CiphertextBlob, 'CiphertextBlob');
    const key = this.keys.get(blob.subarray(0, 36).toString('utf8'));
    if (key === undefined || key.kind !== 'symmetric') throw new KmsFault('InvalidCiphertextException', 'ciphertext was not made by this account\'s keys');
    if (body.KeyId !== undefined && this.key(body.KeyId) !== key) throw new KmsFault('IncorrectKeyException', 'the ciphertext was made under another key');
    const context = (body.EncryptionContext ?? {}) as Record<string, string>;
    const recipient = body.Recipient as { KeyEncryptionAlgorithm?: string; AttestationDocument?: string } | undefined;
    let attestedKey: KeyObject | undefined;
    let imageSha384: string | undefined;
    if (recipient !== undefined) {
      if (recipient.KeyEncryptionAlgorithm !== 'RSAES_OAEP_SHA_256') throw new KmsFault('ValidationException', 'KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256');
      let evidence;
      try {
        evidence = verifyNitroDocument(unb64(recipient.AttestationDocument, 'AttestationDocument'), { now: this.options.now?.() ?? new Date(), trustedRoots: this.options.trustedRoots });
      } catch (err) {
        throw new KmsFault('ValidationException', `invalid attestation document: ${err instanceof Error ? err.message : String(err)}`);
      }
      imageSha384 = evidence.measurements['PCR0'];
      const pk = evidence.bindings.publicKey;
      if (pk === undefined) throw new KmsFault('ValidationException', 'the attestation document has no public_key');
      attestedKey = createPublicKey({ key: Buffer.from(pk, 'hex'), format: 'der', type: 'spki' });
      if (attestedKey.asymmetricKeyType !== 'rsa') throw new KmsFault('ValidationException', 'the attestation document\'s public_key is not RSA');
    }
    if (key.policy.guardDecrypt && !this.exempt) {
      const attested = imageSha384 !== undefined && key.policy.approvedImageSha384 !== undefined && imageSha384.toLowerCase() === key.policy.approvedImageSha384.toLowerCase();
      if (!attested && context[KMS_HOLDERS_CONTEXT_KEY] !== 'true') {
        throw new KmsFault('AccessDeniedException', `kms:Decrypt on ${key.arn} is denied by its key policy (no attestation of the approved image, ciphertext not for holders)`);
      }
    }
    const iv = blob.subarray(36, 48);
    const d = createDecipheriv('aes-256-gcm', key.material, iv);
    d.setAAD(contextAad(key.arn, context));
    d.setAuthTag(blob.subarray(blob.length - 16));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([d.update(blob.subarray(48, blob.length - 16)), d.final()]);
    } catch {
      throw new KmsFault('InvalidCiphertextException', 'the ciphertext or its encryption context is wrong');
    }
    const base = { KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    if (attestedKey !== undefined) {
      const cms = buildEnvelopedData(plaintext, attestedKey);
      plaintext.fill(0);
      return { ...base, CiphertextForRecipient: b64(cms) };
    }
    return { ...base, Plaintext: b64(plaintext) };
  }
}
