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
