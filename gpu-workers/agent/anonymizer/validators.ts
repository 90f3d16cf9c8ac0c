/**
 * Validators that keep the free-text redactor's false positives down: a candidate span is only redacted when its
 * check passes (Luhn for cards, mod-97 for IBANs, the SSA's rules for SSNs, octet ranges for IPv4, EIP-55 for
 * mixed-case Ethereum addresses).
 */
import { isIPv6 } from 'node:net';
import { getAddress } from 'ethers';
import { isValidIBAN } from 'ibantools';

/** True when `digits` (only 0-9) passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** A payment card number: 13 to 19 digits once spaces and dashes are removed, Luhn-valid. */
export function cardValid(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

/** An IBAN in print (grouped by spaces) or electronic form: known country format and mod-97 check. */
export function ibanValid(candidate: string): boolean {
  return isValidIBAN(candidate.replace(/ /g, '').toUpperCase());
}

/**
 * A US Social Security number `AAA-GG-SSSS` (dashes or spaces, or none): area not 000, 666 or 900-999 (the
 * 9xx range is ITINs), group not 00, serial not 0000.
 */
export function ssnValid(candidate: string): boolean {
  const m = /^([0-9]{3})[- ]?([0-9]{2})[- ]?([0-9]{4})$/.exec(candidate);
  if (!m) return false;
  const [area, group, serial] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

/** A dotted-quad IPv4 address with every octet in 0..255. */
export function ipv4Valid(candidate: string): boolean {
  const parts = candidate.split('.');
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address as node:net parses it (zone ids excluded). */
export function ipv6Valid(candidate: string): boolean {
  return isIPv6(candidate);
}

/** `0x` + 40 hex digits; all-lower or all-upper case is accepted as is, mixed case must carry a valid EIP-55 checksum. */
export function ethAddressValid(candidate: string): boolean {
  if (!/^0x[0-9a-fA-F]{40}$/.test(candidate)) return false;
  const body = candidate.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return true;
  try {
    return getAddress(candidate) === candidate;
  } catch {
    return false;
  }
}
