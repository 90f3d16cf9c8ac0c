/**
 * Seeded synthetic PII for the anonymizer's tests (deterministic: the same seed gives the same values).
 * Generators return values that are PII by the validators' definition (a Luhn-valid card, a mod-97-valid IBAN,
 * a libphonenumber-valid phone), since those are what the redactor is asked to find.
 */
import { Faker, en } from '@faker-js/faker';
import { getExample, parsePhoneNumber } from 'awesome-phonenumber';
import { isValidIBAN } from 'ibantools';
import type { PiiKind } from '../../shared/schemas/anonymizationReport.js';

export function seededFaker(seed: number): Faker {
  const f = new Faker({ locale: [en] });
  f.seed(seed);
  return f;
}

export function validPhone(f: Faker, regions: readonly string[] = ['US', 'GB', 'DE', 'FR']): string {
  for (;;) {
    const region = f.helpers.arrayElement(regions);
    const example = getExample(region, f.helpers.arrayElement(['mobile', 'fixed-line'] as const));
    const significant = example.number?.significant ?? '';
    const candidate = parsePhoneNumber(`+${example.countryCode}${significant.slice(0, 3)}${f.string.numeric(significant.length - 3)}`);
    if (candidate.valid) return candidate.number[f.helpers.arrayElement(['e164', 'international', 'national'] as const)];
  }
}

export function validIban(f: Faker): string {
  for (;;) {
    const iban = f.finance.iban({ formatted: f.datatype.boolean() });
    if (isValidIBAN(iban.replace(/ /g, ''))) return iban;
  }
}

export function validSsn(f: Faker): string {
  const area = f.helpers.arrayElement([f.number.int({ min: 1, max: 665 }), f.number.int({ min: 667, max: 899 })]);
  const group = f.number.int({ min: 1, max: 99 });
  const serial = f.number.int({ min: 1, max: 9999 });
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

export function dobPhrase(f: Faker): { phrase: string; date: string } {
  const d = f.date.birthdate();
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  const pad = (n: number): string => String(n).padStart(2, '0');
  const month = d.toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
  const date = f.helpers.arrayElement([`${y}-${pad(m)}-${pad(day)}`, `${pad(m)}/${pad(day)}/${y}`, `${pad(day)}.${pad(m)}.${y}`, `${month} ${day}, ${y}`, `${day} ${month} ${y}`]);
  const cue = f.helpers.arrayElement(['DOB:', 'Date of birth:', 'born on', 'was born', 'geboren am', 'Birthday']);
  return { phrase: `${cue} ${date}`, date };
}

/** One value of each structured kind, as a generator. */
export const STRUCTURED: Record<Exclude<PiiKind, 'dob' | 'name' | 'identifier'>, (f: Faker) => string> = {
  email: (f) => f.internet.email(),
  phone: (f) => validPhone(f),
  card: (f) => f.finance.creditCardNumber(),
  iban: validIban,
  ipv4: (f) => f.internet.ipv4(),
  ipv6: (f) => f.internet.ipv6(),
  eth_address: (f) => f.finance.ethereumAddress(),
  ssn: validSsn,
};

/** A sentence of filler words around `value`. */
export function inSentence(f: Faker, value: string): string {
  return `${f.lorem.words(f.number.int({ min: 1, max: 6 }))} ${value}${f.helpers.arrayElement(['', ',', '.', ';'])} ${f.lorem.words(f.number.int({ min: 0, max: 5 }))}`;
}
