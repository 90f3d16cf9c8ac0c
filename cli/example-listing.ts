import type { DatasetInputWire } from '../shared/schemas/dataset.js';

/** A complete, valid listing: `provena dataset template` prints it (with the caller as sole recipient). */
export function exampleListing(owner: string, paymentToken: string): DatasetInputWire {
  return {
    title: 'Clinical notes (de-identified), 2019-2023',
    description: 'Discharge summaries from three hospitals, with structured vitals.',
    tags: ['health', 'text', 'en'],
    dataSchema: {
      kind: 'tabular',
      columns: [
        { name: 'patient_id', type: 'string' },
        { name: 'age', type: 'integer' },
        { name: 'zip', type: 'string' },
        { name: 'note', type: 'text' },
      ],
    },
    sizeBytes: 1_250_000_000,
    sampleCount: 420_000,
    license: { paymentToken, pricePerSample: '250', allowedUses: ['training'], expiryOptionsDays: [30, 90, 365] },
    royaltySplit: [{ recipient: owner, bps: 10_000 }],
    anonymization: { identifierColumns: ['patient_id'], quasiIdentifiers: { columns: ['age', 'zip'], k: 5 }, redactTextPii: true },
  };
}
