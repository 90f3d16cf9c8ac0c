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
