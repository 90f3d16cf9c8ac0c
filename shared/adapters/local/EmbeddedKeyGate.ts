/**
 * The default key gate, run inside the API: data keys are wrapped with AES-256-GCM under a gate master key kept
 * in a file (0600, created at first start), with AAD = dataset id ‖ version ‖ conditions hash, so a wrapped key
 * cannot be moved to another dataset version nor released under other conditions. Release runs the shared
 * checks (signature, time window, single-use nonce, access conditions on chain at request time), unwraps, and
 * seals the data key to the requester's public key with ECIES (shared/crypto/ecies.ts).
 *
 * Master-key wraps use random 96-bit nonces: safe for well under 2^32 wraps per master key (one per dataset
 * version), after which the master key must be rotated.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ProvenaError } from '../../errors.js';
import { sealToPublicKey } from '../../crypto/ecies.js';
import { IntegrityError } from '../../crypto/errors.js';
import { ReleaseAuthorizer, releaseContext } from '../../domain/keyReleasePolicy.js';
import type { ReleaseAuthorizerDeps } from '../../domain/keyReleasePolicy.js';
import { hashConditions } from '../../crypto/conditionsHash.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { EncryptedKeyForRequester, KeyGate, ReleaseDataKeyParams, WrapDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';

const WRAP_LABEL = 'provena/keygate/embedded/v1';

/** Options of {@link EmbeddedKeyGate.open}. */
export interface EmbeddedKeyGateOptions extends Omit<ReleaseAuthorizerDeps, 'backend'> {
  /** Path of the master key file (64 hex characters). Created with mode 0600 if absent. */
  masterKeyFile: string;
}

/**
 * Loads the master key, creating it on first start. Refuses (KEY_GATE_MISCONFIGURED) a file that group or
 * others can read or write, or that does not hold exactly 32 bytes of hex.
 */
export async function loadOrCreateMasterKey(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx': never overwrite; if another process won the race we read its key below.
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(`${randomBytes(32).toString('hex')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', `gate master key ${path} has mode ${(st.mode & 0o777).toString(8)}: it must not be accessible to group or others (chmod 600)`);
  }
  const hex = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProvenaError('KEY_GATE_MISCONFIGURED', `gate master key ${path} must hold 64 lowercase hex characters`);
  return Buffer.from(hex, 'hex');
}

function lp(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function wrapAad(datasetId: string, version: number, conditionsHash: string): Buffer {
  return Buffer.concat([lp(WRAP_LABEL), lp(datasetId), lp(String(version)), lp(conditionsHash)]);
}

/**
 * Embedded {@link KeyGate}.
 *
 * @example
 * ```ts
 * const gate = await EmbeddedKeyGate.open({ masterKeyFile: '.provena/keygate.key', evaluator, nonceStore, logger, domain: keyRequestDomain(31337n) });
 * const wrapped = await gate.wrapDataKey({ datasetId, version, dataKey, conditions });
 * const released = await gate.releaseDataKey({ wrapped, datasetId, version, conditions, grant, requester, proof });
 * ```
 */
export class EmbeddedKeyGate implements KeyGate {
  readonly backend = 'embedded' as const;
  /** Public fingerprint of the master key (recorded in manifests; not secret). */
  readonly masterKeyId: string;
  private readonly authorizer: ReleaseAuthorizer;

  private constructor(
    private readonly masterKey: Buffer,
    options: EmbeddedKeyGateOptions,
  ) {
    this.masterKeyId = `mk_${createHash('sha256').update('provena/keygate/master-key-id').update(masterKey).digest('hex').slice(0, 16)}`;
    this.authorizer = new ReleaseAuthorizer({ ...options, backend: this.backend });
  }

  /** Opens the gate, creating the master key file on first start. */
  static async open(options: EmbeddedKeyGateOptions): Promise<EmbeddedKeyGate> {
    return new EmbeddedKeyGate(await loadOrCreateMasterKey(options.masterKeyFile), options);
  }

  async wrapDataKey(p: WrapDataKeyParams): Promise<WrappedKey> {
    if (p.dataKey.length !== 32) throw new IntegrityError('DATA_KEY_MISMATCH', 'data key must be 32 bytes');
    const conditionsHash = hashConditions(p.conditions);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, nonce);
    cipher.setAAD(wrapAad(p.datasetId, p.version, conditionsHash));
    const ct = Buffer.concat([nonce, cipher.update(p.dataKey), cipher.final(), cipher.getAuthTag()]);
    return { backend: 'embedded', masterKeyId: this.masterKeyId, ciphertext: ct.toString('base64'), conditionsHash };
  }

  /** Unwraps for this dataset version only; `KEY_UNWRAP_FAILED` otherwise. */
  private unwrap(wrapped: WrappedKey, datasetId: string, version: number): Buffer {
    if (wrapped.backend !== 'embedded' || wrapped.masterKeyId !== this.masterKeyId) {
      throw new IntegrityError('KEY_UNWRAP_FAILED', 'the key was not wrapped by this gate');
    }
    const raw = Buffer.from(wrapped.ciphertext, 'base64');
    if (raw.length !== 12 + 32 + 16) throw new IntegrityError('KEY_UNWRAP_FAILED', 'wrapped key is malformed');
    try {
      const d = createDecipheriv('aes-256-gcm', this.masterKey, raw.subarray(0, 12));
      d.setAAD(wrapAad(datasetId, version, wrapped.conditionsHash));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    } catch (cause) {
      throw new IntegrityError('KEY_UNWRAP_FAILED', 'wrapped key does not belong to this dataset version', { cause });
    }
  }

  async releaseDataKey(p: ReleaseDataKeyParams): Promise<EncryptedKeyForRequester> {
    const requester = await this.authorizer.authorize(p);
    const dataKey = this.unwrap(p.wrapped, p.datasetId, p.version);
    try {
      const sealed = sealToPublicKey(p.requester.publicKey, dataKey, releaseContext({ datasetId: p.datasetId, version: p.version, grant: p.grant, requester, nonce: p.proof.nonce }));
      return { kind: 'sealed', datasetId: p.datasetId, version: p.version, grant: p.grant, requester, sealed };
    } finally {
      dataKey.fill(0);
    }
  }

  async health(): Promise<ComponentHealth> {
    return { status: 'ok', detail: `embedded key gate ${this.masterKeyId}` };
  }
}
