/**
 * The signed key request: EIP-712 typed data over everything a release is for, so a request cannot be
 * replayed for another dataset, version, license/job or public key, and (with a single-use nonce and a
 * timestamp window, enforced by the gate) cannot be replayed at all.
 */
import { TypedDataEncoder, computeAddress, hexlify, randomBytes } from 'ethers';
import { recoverStrict } from './signatures.js';
import type { TypedDataDomain, TypedDataField } from 'ethers';
import { KEY_REQUEST_TYPES } from '../eip712.js';
import type { KeyGrant } from '../schemas/keyRelease.js';


export interface KeyRequestMessage {
  datasetId: string;
  version: number;
  grant: KeyGrant;
  requesterPublicKey: string;
  nonce: string;
  issuedAt: number;
}

function grantId(grant: KeyGrant): string {
  return grant.type === 'license' ? grant.licenseId : grant.jobId;
}

/** The typed-data value for a request. */
export function keyRequestValue(m: KeyRequestMessage): Record<string, unknown> {
  return {
    datasetId: m.datasetId,
    version: BigInt(m.version),
    grantType: m.grant.type,
    grantId: BigInt(grantId(m.grant)),
    licenseId: BigInt(m.grant.licenseId ?? 0),
    requesterPublicKey: m.requesterPublicKey,
    nonce: m.nonce,
    issuedAt: BigInt(m.issuedAt),
  };
}

/** Anything that can sign typed data (an ethers `Wallet` or `Signer`). */
export interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/**
 * Client side: builds and signs a fresh key request (random nonce, current time).
 *
 * @example
 * ```ts
 * const wallet = Wallet.createRandom();
 * const { proof } = await signKeyRequest(wallet, domain, { datasetId, version, grant: { type: 'license', licenseId: '1' }, requesterPublicKey: wallet.signingKey.publicKey });
 * ```
 */
export async function signKeyRequest(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  m: Omit<KeyRequestMessage, 'nonce' | 'issuedAt'> & Partial<Pick<KeyRequestMessage, 'nonce' | 'issuedAt'>>,
): Promise<{ nonce: string; issuedAt: number; signature: string }> {
  const nonce = m.nonce ?? hexlify(randomBytes(32));
  const issuedAt = m.issuedAt ?? Math.floor(Date.now() / 1000);
  const signature = await signer.signTypedData(domain, KEY_REQUEST_TYPES, keyRequestValue({ ...m, nonce, issuedAt }));
  return { nonce, issuedAt, signature };
}

/** Gate side: the address that signed the request, or `null` when the signature is malformed. */
export function recoverKeyRequestSigner(domain: TypedDataDomain, m: KeyRequestMessage, signature: string): string | null {
  let digest: string;
  try {
    digest = TypedDataEncoder.hash(domain, KEY_REQUEST_TYPES, keyRequestValue(m));
  } catch {
    return null;
  }
  // Strict: 65 bytes, low s. A 64-byte compact (EIP-2098) form or a high-s twin is refused, as the API refuses it.
  const r = recoverStrict(digest, signature);
  return r.ok ? r.address : null;
}

/** The address of a secp256k1 public key, or `null` if it is not one. */
export function addressOfPublicKey(publicKey: string): string | null {
  try {
    return computeAddress(publicKey);
  } catch {
    return null;
  }
}
