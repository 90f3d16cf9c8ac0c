import { describe, expect, it } from '@jest/globals';
import { AnonymizationPolicy, DatasetInput, type DatasetInputWire } from './dataset.js';

const OWNER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function listing(anonymization: DatasetInputWire['anonymization']): DatasetInputWire {
  return {
    title: 'Clinic visits',
    dataSchema: {
      kind: 'tabular',
      columns: ['patient_id', 'full_name', 'customer_id', 'age', 'zip', 'notes'].map((name) => ({ name, type: name === 'age' ? 'integer' : 'string' })),
    },
    sizeBytes: 1000,
    license: { paymentToken: OWNER, pricePerSample: '1', allowedUses: ['training'], expiryOptionsDays: [30] },
    royaltySplit: [{ recipient: OWNER, bps: 10_000 }],
    anonymization,
  };
}

describe('the anonymization policy', () => {
  it('parses a policy written before the new fields to exactly what it parsed to before (no added keys)', () => {
    const old = { identifierColumns: ['customer_email'], quasiIdentifiers: { columns: ['age', 'zip'], k: 5 }, redactTextPii: true };
    expect(AnonymizationPolicy.parse(old)).toEqual(old);
  });

  it('accepts join keys, name and free-text columns, hierarchy hints, a suppression cap and phone regions', () => {
    const policy: DatasetInputWire['anonymization'] = {
      identifierColumns: ['patient_id'],
      nameColumns: ['full_name'],
      joinKeyColumns: ['customer_id'],
      freeTextColumns: ['notes'],
      phoneRegions: ['GB', 'DE'],
      quasiIdentifiers: { columns: ['age', 'zip'], k: 10, maxSuppressionFraction: 0.02, hierarchies: { age: { kind: 'numeric', bandWidths: [5, 10] }, zip: { kind: 'prefix', maxDrop: 3 } } },
    };
    expect(DatasetInput.safeParse(listing(policy)).success).toBe(true);
  });

  it('names the field of each unknown column and of a hint on a column that is not a quasi-identifier', () => {
    const r = DatasetInput.safeParse(
      listing({ nameColumns: ['nom'], joinKeyColumns: ['customer_id'], quasiIdentifiers: { columns: ['age'], k: 5, hierarchies: { zip: { kind: 'prefix' } } } }),
    );
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.')).sort()).toEqual(['anonymization.nameColumns.0', 'anonymization.quasiIdentifiers.hierarchies.zip']);
  });

  it('rejects band widths that do not ascend and a region that is not an ISO code', () => {
    const r = AnonymizationPolicy.safeParse({ phoneRegions: ['uk'], quasiIdentifiers: { columns: ['age'], k: 5, hierarchies: { age: { kind: 'numeric', bandWidths: [10, 5] } } } });
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.')).sort()).toEqual(['phoneRegions.0', 'quasiIdentifiers.hierarchies.age.bandWidths']);
  });
});

describe('text fields a person reads', () => {
  const base = listing({});
  const issues = (input: unknown) => {
    const r = DatasetInput.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it.each([
    ['an escape sequence', 'Sales \u001b]0;owned\u0007 2024', 'U+001B'],
    ['a carriage return that rewrites the line', 'Sales 2024\rFree data', 'U+000D'],
    ['a line feed', 'Sales\n2024', 'U+000A'],
    ['a C1 control (CSI)', 'Sales \u009b2J', 'U+009B'],
    ['a right-to-left override', 'invoice_\u202Eslx.exe', 'U+202E'],
    ['a first-strong isolate', 'Sales \u2068x', 'U+2068'],
    ['a right-to-left mark', 'Sales \u200F', 'U+200F'],
    ['an Arabic letter mark', 'Sales \u061C', 'U+061C'],
    ['a line separator', 'Sales\u20282024', 'U+2028'],
  ])('refuses a title with %s, naming the field and the character', (_what, title, cp) => {
    expect(issues({ ...base, title })).toEqual([{ path: 'title', message: expect.stringContaining(cp) }]);
  });

  it('accepts line feeds and tabs in a description and turns CR LF into LF', () => {
    const r = DatasetInput.parse({ ...base, description: 'Line one\r\nLine two\n\tindented\rthree' });
    expect(r.description).toBe('Line one\nLine two\n\tindented\nthree');
  });

  it('refuses an escape sequence or a bidirectional override in a description', () => {
    expect(issues({ ...base, description: 'ok\n\u001b[2J' })).toEqual([{ path: 'description', message: expect.stringContaining('U+001B at position 3') }]);
    expect(issues({ ...base, description: 'a \u202D b' })).toEqual([{ path: 'description', message: expect.stringContaining('U+202D') }]);
  });

  it('refuses control characters in a column name and a column description, naming each path', () => {
    const columns = [{ name: 'age\u001b[31m', type: 'integer' }, { name: 'zip', type: 'string', description: 'post\u0000code' }];
    expect(issues({ ...base, dataSchema: { kind: 'tabular', columns } })).toEqual([
      { path: 'dataSchema.columns.0.name', message: expect.stringContaining('U+001B') },
      { path: 'dataSchema.columns.1.description', message: expect.stringContaining('U+0000') },
    ]);
  });

  it('accepts ordinary text in any script, with emoji and right-to-left letters', () => {
    expect(issues({ ...base, title: 'Ventes 2024 — données 🇫🇷 مبيعات', description: 'Zeilen:\n– München\n– 東京' })).toEqual([]);
  });
});

describe('a listing with a Merkle split', () => {
  const account = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}`;
  const merkle = (merkleShares: unknown): unknown => {
    const { royaltySplit: _explicit, ...rest } = listing({});
    return { ...rest, merkleShares };
  };
  const issues = (value: unknown) => {
    const r = DatasetInput.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts many shares by units and checksums their accounts', () => {
    const parsed = DatasetInput.parse(merkle([{ account: account(0).toLowerCase(), units: '3' }, { account: account(1), units: '18446744073709551612' }]));
    expect(parsed.merkleShares?.[0]?.account).toBe('0x0000000000000000000000000000000000000001');
    expect(parsed.royaltySplit).toBeUndefined();
  });

  it('refuses a duplicate account, zero units and a total of 2^64, naming each', () => {
    expect(issues(merkle([{ account: account(0), units: '1' }, { account: account(0).toLowerCase(), units: '1' }]))).toEqual(['merkleShares.1.account: duplicate account']);
    expect(issues(merkle([{ account: account(0), units: '0' }]))[0]).toMatch(/^merkleShares\.0\.units/);
    expect(issues(merkle([{ account: account(0), units: '9223372036854775808' }, { account: account(1), units: '9223372036854775808' }]))[0]).toMatch(/less than 2\^64/);
  });

  it('refuses more than 10,000 shares', () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ account: account(i), units: '1' }));
    expect(issues(merkle(many))[0]).toMatch(/^merkleShares/);
  });

  it('needs exactly one of an explicit split and Merkle shares', () => {
    expect(issues({ ...listing({}), merkleShares: [{ account: account(0), units: '1' }] })).toEqual(['royaltySplit: give exactly one of royaltySplit and merkleShares']);
    const { royaltySplit: _explicit, ...neither } = listing({});
    expect(issues(neither)).toEqual(['royaltySplit: give exactly one of royaltySplit and merkleShares']);
  });
});
