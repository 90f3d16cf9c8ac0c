/**
 * Strict ECDSA signature handling shared by every verifier (signed API requests, key requests): only the 65-byte
 * `r || s || v` form with a low `s` (EIP-2) is accepted. The 64-byte compact form (EIP-2098) and high-s twins are
 * refused, so one signed message has exactly one accepted signature.
 */
import { Signature, recoverAddress } from 'ethers';

/** secp256k1 n / 2: a larger `s` is the malleable twin of a valid signature. */
const SECP256K1_N_DIV_2 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** ERC-6492's magic suffix of a signature wrapped with its account's deployment call. */
export const ERC6492_MAGIC = '6492649264926492649264926492649264926492649264926492649264926492';

/** Why a signature was refused. */
export type StrictSignatureError = 'SIGNATURE_MALFORMED' | 'SIGNATURE_MALLEABLE';

/**
 * Recovers the signer of `digest` from a strict 65-byte low-s signature.
 *
 * @example
 * ```ts
 * const r = recoverStrict(digest, sig); if (r.ok) console.log(r.address);
 * ```
 */
export function recoverStrict(digest: string, signature: string): { ok: true; address: string } | { ok: false; error: StrictSignatureError } {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return { ok: false, error: 'SIGNATURE_MALFORMED' };
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s > SECP256K1_N_DIV_2) return { ok: false, error: 'SIGNATURE_MALLEABLE' };
  if (![0, 1, 27, 28].includes(v)) return { ok: false, error: 'SIGNATURE_MALFORMED' };
  try {
    return { ok: true, address: recoverAddress(digest, Signature.from(signature)) };
  } catch {
    return { ok: false, error: 'SIGNATURE_MALFORMED' };
  }
}

/** Whether `signature` carries ERC-6492's suffix (a counterfactual smart account's wrapped signature). */
export function isErc6492Signature(signature: string): boolean {
  return signature.length > 2 + 64 && signature.toLowerCase().endsWith(ERC6492_MAGIC);
}
