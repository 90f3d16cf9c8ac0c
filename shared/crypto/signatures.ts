/**
 * Strict ECDSA signature handling shared by every verifier (signed API requests, key requests): only the 65-byte
 * `r || s || v` form with a low `s` (EIP-2) is accepted. The 64-byte compact form (EIP-2098) and high-s twins are
 * refused, so one signed message has exactly one accepted signature.
 */
import { SigningKey, Signature, computeAddress } from 'ethers';
import { checksumAddress } from '../encoding/address.js';
// ethers' own secp256k1 (the copy it pins and signs with): the point arithmetic of the cached-key fast path below.
import { secp256k1 } from '@noble/curves/secp256k1';

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
    return { ok: true, address: computeAddress(SigningKey.recoverPublicKey(digest, Signature.from(signature))) };
  } catch {
    return { ok: false, error: 'SIGNATURE_MALFORMED' };
  }
}

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;
const CURVE_N = secp256k1.CURVE.n;
/** Public keys of addresses whose signatures recovered before, with wNAF tables (about 10 KiB each). */
const knownKeys = new Map<string, Point>();
/** Bound of {@link knownKeys} (oldest evicted first). */
const KNOWN_KEYS_MAX = 1024;
/** wNAF window of a cached key: 4 makes its multiplication about 3x faster than recovery's, for little memory. */
const KNOWN_KEY_WINDOW = 4;

function modN(a: bigint): bigint {
  const r = a % CURVE_N;
  return r < 0n ? r + CURVE_N : r;
}

/**
 * Whether `signature` is `expected`'s signature of `digest` with exactly the recovery id `v` names, using the
 * address's cached public key Q: R = (h/s)G + (r/s)Q must have x = r (below n: recovery id bit 1 clear) and the
 * y parity `v` names. Recovery computes Q = (sR - hG)/r from that same R, so this accepts exactly the signatures
 * {@link recoverStrict} maps to `expected`, with one precomputed multiplication instead of recovery's square root
 * and two generic ones. `undefined` when there is no cached key or the arithmetic cannot decide (then recover).
 */
function verifyWithKnownKey(digest: string, signature: string, expected: string): boolean | undefined {
  const q = knownKeys.get(expected);
  if (q === undefined) return undefined;
  try {
    const r = BigInt(`0x${signature.slice(2, 66)}`);
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130, 132), 16);
    if (r === 0n || r >= CURVE_N || s === 0n) return undefined;
    const sInv = invertN(s);
    const u1 = modN(BigInt(digest) * sInv);
    const u2 = modN(r * sInv);
    const gPart = u1 === 0n ? secp256k1.ProjectivePoint.ZERO : secp256k1.ProjectivePoint.BASE.multiply(u1);
    const rPoint = gPart.add(q.multiply(u2));
    if (rPoint.equals(secp256k1.ProjectivePoint.ZERO)) return false;
    const { x, y } = rPoint.toAffine();
    if (x >= CURVE_N) return undefined; // recovery id with the overflow bit: let recovery decide
    return x === r && Number(y & 1n) === (v >= 27 ? v - 27 : v);
  } catch {
    return undefined;
  }
}

/** s^-1 mod n (extended Euclid; s in 1..n-1). */
function invertN(s: bigint): bigint {
  let [a, b, x0, x1] = [s, CURVE_N, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b, x0, x1] = [b - q * a, a, x1 - q * x0, x0];
  }
  return modN(x1);
}

function rememberKey(address: string, publicKey: string): void {
  if (knownKeys.has(address)) return;
  if (knownKeys.size >= KNOWN_KEYS_MAX) knownKeys.delete(knownKeys.keys().next().value as string);
  const point = secp256k1.ProjectivePoint.fromHex(publicKey.slice(2));
  point._setWindowSize(KNOWN_KEY_WINDOW);
  knownKeys.set(address, point);
}

/**
 * {@link recoverStrict} for a claimed signer: the same strict checks and the same answer (`ok` with the recovered
 * address, which the caller compares with `expected`), faster for an address seen before: its public key (a fact
 * about the address, never invalidated) is cached after the first recovery that yields `expected`, and later
 * signatures are verified against it with a precomputed table (see {@link verifyWithKnownKey}).
 *
 * @example
 * ```ts
 * const r = recoverStrictFor(digest, sig, claimed); if (r.ok && r.address === claimed) ...
 * ```
 */
export function recoverStrictFor(digest: string, signature: string, expected: string): { ok: true; address: string } | { ok: false; error: StrictSignatureError } {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return { ok: false, error: 'SIGNATURE_MALFORMED' };
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s > SECP256K1_N_DIV_2) return { ok: false, error: 'SIGNATURE_MALLEABLE' };
  if (![0, 1, 27, 28].includes(v)) return { ok: false, error: 'SIGNATURE_MALFORMED' };
  let claimed: string | undefined;
  try {
    claimed = checksumAddress(expected);
  } catch {
    claimed = undefined; // not an address: plain recovery decides (and the caller's comparison fails)
  }
  if (claimed !== undefined && verifyWithKnownKey(digest, signature, claimed) === true) return { ok: true, address: claimed };
  let publicKey: string;
  try {
    publicKey = SigningKey.recoverPublicKey(digest, Signature.from(signature));
  } catch {
    return { ok: false, error: 'SIGNATURE_MALFORMED' };
  }
  const address = computeAddress(publicKey);
  if (address === claimed) rememberKey(address, publicKey);
  return { ok: true, address };
}

/** Forgets every cached public key (tests). */
export function clearKnownKeys(): void {
  knownKeys.clear();
}

/** Whether `signature` carries ERC-6492's suffix (a counterfactual smart account's wrapped signature). */
export function isErc6492Signature(signature: string): boolean {
  return signature.length > 2 + 64 && signature.toLowerCase().endsWith(ERC6492_MAGIC);
}
