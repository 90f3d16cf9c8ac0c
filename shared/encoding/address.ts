/**
 * EIP-55 checksumming with a bounded memo. ethers' `getAddress` runs keccak-256 in JavaScript (tens of µs) on
 * every call, and one signed request checks the same few addresses several times (the body's schema, the auth
 * headers, the signed message, on the client and again on the server): a signed `POST /v1/datasets` spent about
 * 0.7 ms per request in it (bench/profileWrite.ts). Only valid inputs are remembered, so a bad one is always
 * checked (and refused) afresh.
 */
import { getAddress } from 'ethers';

/** Inputs remembered (oldest evicted first): about 200 bytes each. */
const MAX_ENTRIES = 4096;
const memo = new Map<string, string>();

/**
 * `getAddress(input)`: the EIP-55 checksummed form of a 20-byte hex address, throwing exactly as ethers does on
 * anything else (a bad mixed-case checksum included).
 *
 * @example
 * ```ts
 * checksumAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8') // => '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
 * ```
 */
export function checksumAddress(input: string): string {
  const known = memo.get(input);
  if (known !== undefined) return known;
  const checksummed = getAddress(input);
  if (memo.size >= MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(input, checksummed);
  return checksummed;
}

/** {@link checksumAddress}, or `undefined` for anything that is not an address. */
export function tryChecksumAddress(input: string): string | undefined {
  try {
    return checksumAddress(input);
  } catch {
    return undefined;
  }
}
