import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Wallet } from 'ethers';
import { cardValid, ethAddressValid, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from './validators.js';

/** The Luhn check digit that completes `payload`. */
function luhnDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(payload + d)) return String(d);
  throw new Error('unreachable: one digit always completes a Luhn payload');
}

/** Recomputes the two IBAN check digits (ISO 13616 mod 97) independently of ibantools. */
function withIbanCheck(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of rearranged) rem = (rem * 10 + Number(ch)) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

describe('Luhn', () => {
  it('accepts every payload completed with its check digit', () => {
    fc.assert(fc.property(digits(12, 18), (payload) => luhnValid(payload + luhnDigit(payload))));
  });

  it('rejects any single-digit change of a valid number', () => {
    fc.assert(
      fc.property(digits(12, 18), fc.nat(), fc.integer({ min: 1, max: 9 }), (payload, at, delta) => {
        const n = payload + luhnDigit(payload);
        const i = at % n.length;
        const changed = n.slice(0, i) + String((Number(n[i]) + delta) % 10) + n.slice(i + 1);
        return !luhnValid(changed);
      }),
    );
  });

  it('accepts cards of 13 to 19 digits grouped by spaces or dashes, and no other length', () => {
    fc.assert(
      fc.property(digits(8, 24), fc.constantFrom('', ' ', '-'), (payload, sep) => {
        const n = payload + luhnDigit(payload);
        const grouped = n.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
        return cardValid(grouped) === (n.length >= 13 && n.length <= 19);
      }),
    );
  });
});

describe('IBAN', () => {
  // German IBANs: DE + 2 check digits + 18 digits (BLZ + account).
  it('accepts a German IBAN whose check digits were computed by mod 97, in print or electronic form', () => {
    fc.assert(fc.property(digits(18, 18), fc.boolean(), (bban, print) => {
      const iban = withIbanCheck('DE', bban);
      return ibanValid(print ? iban.replace(/(.{4})(?=.)/g, '$1 ') : iban);
    }));
  });

  it('rejects any single-digit substitution in the account part (mod 97 catches them all)', () => {
    fc.assert(
      fc.property(digits(18, 18), fc.nat(), fc.integer({ min: 1, max: 9 }), (bban, at, delta) => {
        const iban = withIbanCheck('DE', bban);
        const i = 4 + (at % 18);
        return !ibanValid(iban.slice(0, i) + String((Number(iban[i]) + delta) % 10) + iban.slice(i + 1));
      }),
    );
  });
});

describe('US SSN', () => {
  it('is valid exactly when the area is not 000, 666 or 900-999, the group not 00 and the serial not 0000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9999 }), fc.constantFrom('-', ' ', ''), (a, g, s, sep) => {
        const ssn = [String(a).padStart(3, '0'), String(g).padStart(2, '0'), String(s).padStart(4, '0')].join(sep);
        return ssnValid(ssn) === (a !== 0 && a !== 666 && a < 900 && g !== 0 && s !== 0);
      }),
    );
  });
});

describe('IP addresses', () => {
  it('accepts a dotted quad exactly when every octet is at most 255', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 4, maxLength: 4 }), (o) => ipv4Valid(o.join('.')) === o.every((x) => x <= 255)));
  });

  it('rejects five-part version strings and accepts IPv6 as node:net does', () => {
    expect([ipv4Valid('1.2.3.4.5'), ipv6Valid('2001:db8::1'), ipv6Valid('12:30:45')]).toEqual([false, true, false]);
  });
});

describe('Ethereum addresses', () => {
  it('accepts all-lower, all-upper and EIP-55 forms, and rejects a mixed case with one letter flipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => b.some((x) => x !== 0)), (seed) => {
        const checksummed = new Wallet(`0x${Buffer.from(seed).toString('hex')}`).address;
        const body = checksummed.slice(2);
        const i = body.search(/[a-fA-F]/);
        const flip = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
        const broken = i < 0 || body.toLowerCase() === body || body.toUpperCase() === body ? undefined : `0x${body.slice(0, i)}${flip(body[i]!)}${body.slice(i + 1)}`;
        const brokenIsMixed = broken !== undefined && /[a-f]/.test(broken.slice(2)) && /[A-F]/.test(broken.slice(2));
        return (
          ethAddressValid(checksummed) &&
          ethAddressValid(`0x${body.toLowerCase()}`) &&
          ethAddressValid(`0x${body.toUpperCase()}`) &&
          (!brokenIsMixed || !ethAddressValid(broken))
        );
      }),
      { numRuns: 50 },
    );
  });
});
