import { describe, expect, it } from '@jest/globals';
import type { Faker } from '@faker-js/faker';
import { dobPhrase, inSentence, seededFaker, STRUCTURED } from '../../../test/support/anonymizerFixtures.js';
import { type RedactorOptions, findPii, nameTokens, redactText } from './redact.js';
import { luhnValid } from './validators.js';

const OPTS: RedactorOptions = { phoneRegions: ['US', 'GB', 'DE', 'FR'], names: new Set() };
const SAMPLES = 400;

function recall(f: Faker, kind: string, gen: (f: Faker) => string, opts: RedactorOptions = OPTS): { rate: number; missed: string[] } {
  const missed: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const value = gen(f);
    const text = inSentence(f, value);
    const start = text.indexOf(value);
    const found = findPii(text, opts).some((s) => s.kind === kind && s.start === start && s.end === start + value.length);
    if (!found) missed.push(value);
  }
  return { rate: 1 - missed.length / SAMPLES, missed };
}

describe('free-text PII redaction: recall on seeded synthetic PII', () => {
  for (const [kind, gen] of Object.entries(STRUCTURED)) {
    it(`finds at least 99% of ${SAMPLES} seeded ${kind} values inside sentences, with their exact span`, () => {
      const { rate, missed } = recall(seededFaker(1000 + kind.length), kind, gen);
      expect(rate >= 0.99 ? [] : missed.slice(0, 10)).toEqual([]); // on failure, shows what was missed
    });
  }

  it('finds at least 99% of dates of birth written after a cue word (DOB, born on, geboren am ...)', () => {
    const f = seededFaker(77);
    let hits = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const { phrase, date } = dobPhrase(f);
      const text = inSentence(f, phrase);
      const { text: out } = redactText(text, OPTS);
      if (!out.includes(date) && out.includes('[DOB]')) hits++;
    }
    expect(hits / SAMPLES).toBeGreaterThanOrEqual(0.99);
  });

  it('finds at least 99% of names taken from the name columns, whatever their case in the text', () => {
    const f = seededFaker(78);
    const people = Array.from({ length: SAMPLES }, () => f.person.fullName());
    const opts = { ...OPTS, names: new Set(people.flatMap(nameTokens)) };
    let hits = 0;
    for (const person of people) {
      const shown = f.datatype.boolean() ? person : person.toUpperCase();
      const { text } = redactText(inSentence(f, `Dear ${shown}`), opts);
      if (!nameTokens(person).some((t) => text.toLowerCase().includes(t))) hits++;
    }
    expect(hits / SAMPLES).toBeGreaterThanOrEqual(0.99);
  });
});

/** Look-alikes: strings shaped like PII that fail its validation rule. */
const LOOK_ALIKES: Record<string, (f: Faker) => string> = {
  'a card-like number failing Luhn': (f) => {
    for (;;) {
      const n = f.string.numeric({ length: f.number.int({ min: 13, max: 19 }), allowLeadingZeros: false });
      if (!luhnValid(n)) return f.datatype.boolean() ? n : n.replace(/(\d{4})(?=\d)/g, '$1 ');
    }
  },
  'an order number failing Luhn': (f) => {
    for (;;) {
      const n = f.string.numeric({ length: 16, allowLeadingZeros: false });
      if (!luhnValid(n)) return `order #${n}`;
    }
  },
  'an IBAN with a broken check': (f) => {
    const iban = STRUCTURED.iban(f).replace(/ /g, '');
    const i = f.number.int({ min: 4, max: iban.length - 1 });
    const c = iban[i] as string;
    const swapped = /\d/.test(c) ? String((Number(c) + f.number.int({ min: 1, max: 9 })) % 10) : c === 'Z' ? 'A' : String.fromCharCode(c.charCodeAt(0) + 1);
    return iban.slice(0, i) + swapped + iban.slice(i + 1);
  },
  'an SSN with area 000, 666 or 9xx': (f) =>
    `${f.helpers.arrayElement(['000', '666', String(f.number.int({ min: 900, max: 999 }))])}-${f.string.numeric(2)}-${f.string.numeric(4)}`,
  'an SSN with group 00 or serial 0000': (f) =>
    f.datatype.boolean() ? `${f.number.int({ min: 100, max: 599 })}-00-${f.string.numeric(4)}` : `${f.number.int({ min: 100, max: 599 })}-${f.number.int({ min: 10, max: 99 })}-0000`,
  // Four parts of at most 255 are an IPv4 address by form, so versions here have 3, 5 or 6 parts.
  'a version string': (f) => Array.from({ length: f.helpers.arrayElement([3, 5, 6]) }, () => f.number.int({ min: 0, max: 40 })).join('.'),
  'an IPv4-like address with an octet over 255': (f) => `${f.number.int({ min: 256, max: 999 })}.${f.number.int({ min: 0, max: 255 })}.${f.number.int({ min: 0, max: 255 })}.${f.number.int({ min: 0, max: 255 })}`,
  'a 64-hex hash': (f) => f.string.hexadecimal({ length: 64, casing: 'lower', prefix: f.datatype.boolean() ? '0x' : '' }),
  'a date with no cue word': (f) => f.date.past({ years: 30 }).toISOString().slice(0, 10),
  'an invoice reference': (f) => f.helpers.arrayElement([`INV-${f.string.numeric(6)}`, `${f.number.int({ min: 2000, max: 2030 })}-${f.string.numeric(6)}`, `#${f.string.numeric(8)}`]),
  'an amount': (f) => f.finance.amount({ min: 1000, max: 9_999_999, dec: 2, symbol: '$' }),
  'a time of day': (f) => `${f.number.int({ min: 0, max: 23 })}:${String(f.number.int({ min: 0, max: 59 })).padStart(2, '0')}:${String(f.number.int({ min: 0, max: 59 })).padStart(2, '0')}`,
  'an Ethereum-like address with a bad checksum': (f) => {
    const a = f.finance.ethereumAddress();
    const body = a.slice(2);
    // Mixed case that is not the EIP-55 form: upper-case the first letter only.
    const i = body.search(/[a-f]/);
    return i < 0 ? `0x${body.slice(0, 39)}g` : `0x${body.slice(0, i)}${body[i]!.toUpperCase()}${body.slice(i + 1).toLowerCase()}`;
  },
};

describe('free-text PII redaction: look-alikes that are not PII are kept', () => {
  for (const [what, gen] of Object.entries(LOOK_ALIKES)) {
    it(`keeps at least 95% of ${SAMPLES} samples of ${what}`, () => {
      const f = seededFaker(2000 + what.length);
      const redacted: string[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const value = gen(f);
        const text = inSentence(f, value);
        if (!redactText(text, OPTS).text.includes(value)) redacted.push(value);
      }
      expect(1 - redacted.length / SAMPLES).toBeGreaterThanOrEqual(0.95);
    });
  }
});

describe('free-text PII redaction: output form', () => {
  it('replaces each kind by its typed tag and keeps the text around it', () => {
    const text = 'Mail jane@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, ip 192.168.1.20 / 2001:db8::1, wallet 0x52908400098527886E0F7030069857D2E4169EE7, DOB: 1990-05-17.';
    expect(redactText(text, OPTS).text).toBe(
      'Mail [EMAIL] or call [PHONE]; card [CARD], IBAN [IBAN], SSN [SSN], ip [IPV4] / [IPV6], wallet [ETH_ADDRESS], DOB: [DOB].',
    );
  });

  it('keeps an order number that fails Luhn and a mixed-case address whose checksum is wrong', () => {
    const text = 'Order 4111 1111 1111 1112 to 0x52908400098527886E0F7030069857D2E4169Ee7';
    expect(redactText(text, OPTS).text).toBe(text);
  });

  it('redacts names as whole words only, case-insensitively, and a full name as one tag', () => {
    const opts = { ...OPTS, names: new Set(nameTokens('Dr. Anna Keller')) };
    expect(redactText("ANNA KELLER met Annabelle; Keller's notes", opts).text).toBe("[NAME] met Annabelle; [NAME]'s notes");
  });

  it('leaves honorifics out of the name tokens', () => {
    expect(nameTokens('Mr. John A. Smith Jr.')).toEqual(['john', 'smith']);
  });
});

describe('free-text PII redaction: identifier values repeated in text', () => {
  it('redacts a value of an identifier column as a whole token, and leaves short or partial matches', () => {
    const opts = { ...OPTS, identifiers: new Set(['pid-0042x', '7781234']) };
    expect(redactText('See PID-0042X. Not PID-0042XY, ref 7781234; 778123 stays', opts).text).toBe('See [IDENTIFIER]. Not PID-0042XY, ref [IDENTIFIER]; 778123 stays');
  });
});
