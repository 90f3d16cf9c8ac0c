import { describe, expect, it } from '@jest/globals';
import { getAddress, hexlify, randomBytes } from 'ethers';
import { Address } from '../schemas/common.js';
import { checksumAddress, tryChecksumAddress } from './address.js';

/** `a` with the case of its first letter digit flipped: a mixed-case string whose EIP-55 checksum is wrong. */
function badChecksum(a: string): string {
  const i = [...a].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c));
  const c = a[i]!;
  return a.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + a.slice(i + 1);
}

describe('checksumAddress', () => {
  it('answers as ethers getAddress for lower, upper and checksummed inputs, first and later calls', () => {
    for (let i = 0; i < 50; i++) {
      const a = getAddress(hexlify(randomBytes(20)));
      for (const form of [a, a.toLowerCase(), `0x${a.slice(2).toUpperCase()}`]) {
        expect(checksumAddress(form)).toBe(getAddress(form));
        expect(checksumAddress(form)).toBe(a);
        expect(Address.parse(form)).toBe(a);
      }
    }
  });

  it('refuses a wrong mixed-case checksum every time, even once the valid forms are remembered', () => {
    const a = getAddress(hexlify(randomBytes(20)));
    checksumAddress(a);
    checksumAddress(a.toLowerCase());
    const bad = badChecksum(a);
    for (let k = 0; k < 2; k++) {
      expect(() => checksumAddress(bad)).toThrow(/bad address checksum/);
      expect(tryChecksumAddress(bad)).toBeUndefined();
      expect(Address.safeParse(bad).success).toBe(false);
    }
  });

  it('refuses what is not a 20-byte hex address', () => {
    for (const bad of ['', '0x', '0x1234', `0x${'g'.repeat(40)}`, `0x${'a'.repeat(42)}`]) {
      expect(tryChecksumAddress(bad)).toBeUndefined();
      expect(Address.safeParse(bad).success).toBe(false);
    }
  });

  it('keeps answering correctly past its bound (old entries evicted, never wrong)', () => {
    const many = Array.from({ length: 5000 }, () => hexlify(randomBytes(20)));
    for (const a of many) checksumAddress(a);
    for (const a of [many[0]!, many[4999]!]) expect(checksumAddress(a)).toBe(getAddress(a));
  });
});
