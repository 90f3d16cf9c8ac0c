/**
 * The key gate's inbox key: a secp256k1 key pair derived from the gate's master key, so owners can seal a
 * data key to the gate (ECIES, shared/crypto/ecies.ts) and it never crosses the wire in plaintext.
 * Deriving it (HKDF) rather than storing a second secret keeps one file to protect and rotate.
 */
import { hkdfSync } from 'node:crypto';
import { SigningKey } from 'ethers';
import { ECIES_SCHEME, openSealedBox, type SealedBox, type SealScheme } from './ecies.js';
import { IntegrityError } from './errors.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The gate's inbox: its public key (compressed, 0x-hex), how to seal to it, and a way to open boxes sealed to it.
 * Asynchronous because a cloud inbox (shared/adapters/aws/KmsGateInbox.ts) keeps its private key in KMS.
 */
export interface GateInbox {
  readonly scheme: SealScheme;
  publicKey(): Promise<string>;
  /** Opens a box; rejects with `KEY_UNWRAP_FAILED` unless it was sealed to this inbox with exactly `context`. */
  open(box: SealedBox, context: string): Promise<Buffer>;
}

/**
 * Derives the inbox from the master key.
 *
 * @example
 * ```ts
 * const inbox = gateInbox(await loadOrCreateMasterKey(file));
 * const dataKey = await inbox.open(sealed, uploadKeyContext(id, version, uploadId));
 * ```
 */
export function gateInbox(masterKey: Uint8Array): GateInbox {
  let priv = 0n;
  for (let counter = 0; priv === 0n || priv >= N; counter++) {
    const okm = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `provena/keygate/inbox/v1/${counter}`, 32));
    priv = BigInt(`0x${okm.toString('hex')}`);
  }
  const privateKey = `0x${priv.toString(16).padStart(64, '0')}`;
  const publicKey = SigningKey.computePublicKey(privateKey, true);
  return {
    scheme: ECIES_SCHEME,
    publicKey: async () => publicKey,
    async open(box, context) {
      if (box.context !== context) throw new IntegrityError('KEY_UNWRAP_FAILED', 'the sealed key was made for another upload');
      if (box.scheme !== ECIES_SCHEME) throw new IntegrityError('KEY_UNWRAP_FAILED', `this gate opens ${ECIES_SCHEME} boxes only`);
      return openSealedBox(privateKey, box);
    },
  };
}
