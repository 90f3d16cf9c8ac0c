import type { DatasetInputWire } from '../../shared/schemas/dataset.js';
import { stackInfo } from './stack.js';

/** A valid listing owned by `owner`, with `overrides` merged on top. */
export function listing(owner: string, overrides: Partial<DatasetInputWire> = {}): DatasetInputWire {
  return {
    title: 'Retail transactions 2024',
    description: 'Point-of-sale rows from 40 stores.',
    tags: ['retail', 'tabular'],
    dataSchema: {
      kind: 'tabular',
      columns: [
        { name: 'customer_email', type: 'string' },
        { name: 'age', type: 'integer' },
        { name: 'zip', type: 'string' },
        { name: 'amount', type: 'float' },
      ],
    },
    sizeBytes: 10_485_760,
    sampleCount: 100_000,
    license: {
      paymentToken: stackInfo().deployment.contracts.PaymentToken as string,
      pricePerSample: '25',
      allowedUses: ['training'],
      expiryOptionsDays: [30, 365],
    },
    royaltySplit: [{ recipient: owner, bps: 10_000 }],
    anonymization: { identifierColumns: ['customer_email'], quasiIdentifiers: { columns: ['age', 'zip'], k: 5 }, redactTextPii: true },
    ...overrides,
  };
}
