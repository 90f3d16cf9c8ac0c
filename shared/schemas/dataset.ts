/**
 * Dataset listings: what an owner sends (`DatasetInput`, `DatasetPatch`) and what the API returns (`Dataset`).
 * These schemas are the contract between the SDK, the Lambdas, the worker and the Python trainer.
 */
import * as z from 'zod';
import { WorkerMode } from './attestation.js';
import { Address, Bytes32, CidString, IsoDate, PageQuery, PositiveTokenAmount, TokenAmount, pageOf, plainText } from './common.js';
import { DatasetData } from './upload.js';

/** A dataset id on the DatasetRegistry contract (uint256, decimal). */
export const ChainDatasetId = z.string().regex(/^[1-9][0-9]{0,77}$/, 'must be a positive integer as a decimal string');

const Tag = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'tags are lowercase letters, digits and dashes');

const ColumnName = plainText({ min: 1, max: 128 });

/** Column types the anonymizer and trainer understand. */
export const ColumnType = z.enum(['string', 'integer', 'float', 'boolean', 'date', 'datetime', 'text', 'categorical']);

/** The shape of the data: a table with typed columns, or free text. */
export const DataSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('tabular'),
    columns: z.array(z.object({ name: ColumnName, type: ColumnType, description: plainText({ max: 500, multiline: true }).optional() })).min(1).max(1000),
  }),
  z.object({ kind: z.literal('text'), description: plainText({ min: 1, max: 2000, multiline: true }) }),
]);

/** What a license lets a lab do. Only training is offered: labs never receive raw data. */
export const AllowedUse = z.enum(['training']);

/** Commercial terms snapshotted into each license at purchase. */
export const LicenseTerms = z.object({
  paymentToken: Address,
  /** Price of one training sample, in the payment token's base units. */
  pricePerSample: PositiveTokenAmount,
  allowedUses: z.array(AllowedUse).min(1).max(1),
  /** License durations on offer, in days. */
  expiryOptionsDays: z.array(z.number().int().min(1).max(3650)).min(1).max(10),
  /** Whether a license holder may fetch the decrypted data itself. Off by default: training-only. */
  rawAccess: z.boolean().default(false),
  /**
   * Where attested workers may train on it (see WorkerMode): absent means every mode. `['confidential-gpu']` keeps
   * raw rows inside a CPU+GPU TEE; the API then refuses Nitro-mode evidence for jobs over it.
   */
  workerModes: z.array(WorkerMode).min(1).max(2).optional(),
});

/** One royalty recipient and its share. */
export const RoyaltyShare = z.object({ recipient: Address, bps: z.number().int().min(1).max(10_000) });

/** Shares in basis points that sum to exactly 10000, each recipient once. */
export const RoyaltySplit = z
  .array(RoyaltyShare)
  .min(1)
  .max(100)
  .superRefine((shares, ctx) => {
    const total = shares.reduce((s, r) => s + r.bps, 0);
    if (total !== 10_000) ctx.addIssue({ code: 'custom', message: `basis points must sum to 10000 (got ${total})` });
    const seen = new Set<string>();
    shares.forEach((r, i) => {
      if (seen.has(r.recipient)) ctx.addIssue({ code: 'custom', path: [i, 'recipient'], message: 'duplicate recipient' });
      seen.add(r.recipient);
    });
  });

/** The most recipients a Merkle split may name (the tree's leaves). */
export const MAX_MERKLE_SHARES = 10_000;

/** One recipient of a Merkle split: its units (any positive integer; shares are `units / totalUnits`). */
export const MerkleShare = z.object({
  account: Address,
  units: z.string().regex(/^[1-9][0-9]{0,19}$/, 'must be a positive integer as a decimal string'),
});
export type MerkleShare = z.output<typeof MerkleShare>;

/**
 * The recipients of a Merkle split (many contributors): each account once, units positive, their sum below 2^64
 * (the registry's `totalUnits` is a uint64). The API builds the tree, stores its dump beside the manifest and
 * registers only the root.
 */
export const MerkleShares = z
  .array(MerkleShare)
  .min(1)
  .max(MAX_MERKLE_SHARES)
  .superRefine((shares, ctx) => {
    const seen = new Set<string>();
    let total = 0n;
    shares.forEach((s, i) => {
      if (seen.has(s.account)) ctx.addIssue({ code: 'custom', path: [i, 'account'], message: 'duplicate account' });
      seen.add(s.account);
      total += BigInt(s.units);
    });
    if (total >= 1n << 64n) ctx.addIssue({ code: 'custom', message: `units must sum to less than 2^64 (got ${total})` });
  });

/**
 * A listing's Merkle split as stored: the root and total units it registers, how many recipients the tree holds,
 * and the CID of the tree's dump (OpenZeppelin StandardMerkleTree JSON), which serves each recipient's proof.
 */
export const MerkleSplit = z.object({
  root: Bytes32,
  totalUnits: TokenAmount,
  recipients: z.number().int().min(1).max(MAX_MERKLE_SHARES),
  treeCid: CidString,
});
export type MerkleSplit = z.output<typeof MerkleSplit>;

/**
 * How one quasi-identifier column is generalized (its hierarchy). Level 0 is the exact value; the top level is `*`.
 * - `numeric`: bands `[lo,hi)` of each width in `bandWidths` (ascending; derived from the data's range when omitted).
 * - `date`: ISO dates truncated day → month → year.
 * - `prefix`: postcodes and similar codes, dropping up to `maxDrop` trailing characters (`021**`).
 * - `categorical`: exact value or `*`.
 */
export const QuasiIdentifierHierarchy = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('numeric'),
    bandWidths: z
      .array(z.number().positive().finite())
      .min(1)
      .max(12)
      .refine((w) => w.every((x, i) => i === 0 || x > (w[i - 1] as number)), 'band widths must be strictly ascending')
      .optional(),
  }),
  z.object({ kind: z.literal('date') }),
  z.object({ kind: z.literal('prefix'), maxDrop: z.number().int().min(1).max(12).optional() }),
  z.object({ kind: z.literal('categorical') }),
]);
export type QuasiIdentifierHierarchy = z.output<typeof QuasiIdentifierHierarchy>;

/**
 * How the worker anonymizes rows before training. Fields added after the first release are optional with no
 * default, so listings stored before them parse (and hash into manifests) exactly as before; the anonymizer
 * applies the documented defaults.
 */
export const AnonymizationPolicy = z.object({
  /** Columns dropped outright (names, emails, account numbers). */
  identifierColumns: z.array(ColumnName).max(200).default([]),
  /** Columns generalized until each combination appears at least `k` times. */
  quasiIdentifiers: z
    .object({
      columns: z.array(ColumnName).max(50),
      k: z.number().int().min(2).max(1000),
      /** Hierarchy per column; a column without one is inferred from its values (numbers, ISO dates, else categorical). */
      hierarchies: z.record(ColumnName, QuasiIdentifierHierarchy).optional(),
      /** Largest fraction of rows the anonymizer may suppress to reach `k` (default 0.05). */
      maxSuppressionFraction: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Redact emails, phone numbers and similar PII inside free text. */
  redactTextPii: z.boolean().default(true),
  /** Join keys: replaced by a keyed hash under a per-job key (stable within a job, unlinkable across jobs). */
  joinKeyColumns: z.array(ColumnName).max(50).optional(),
  /** Columns holding person names: dropped, and every name seen in them is redacted from free text. */
  nameColumns: z.array(ColumnName).max(50).optional(),
  /** Columns scanned for PII in free text (default: every remaining string column that is not a quasi-identifier). */
  freeTextColumns: z.array(ColumnName).max(200).optional(),
  /** Regions (ISO 3166 alpha-2) whose national phone formats are recognized (default US, GB, DE, FR). */
  phoneRegions: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 region code')).min(1).max(20).optional(),
});
export type AnonymizationPolicy = z.output<typeof AnonymizationPolicy>;

/**
 * A listing's differential-privacy policy: every job over it must train with DP-SGD at a `delta` no larger than
 * this one, and the epsilons of all its jobs (across all licenses) add up to at most `epsilonBudget`.
 */
export const PrivacyPolicy = z.strictObject({
  epsilonBudget: z.number().positive().max(1000),
  delta: z.number().gt(0).lt(1),
});
export type PrivacyPolicy = z.output<typeof PrivacyPolicy>;

const datasetFields = {
  title: plainText({ min: 1, max: 200, trim: true }),
  /** Descriptions are the only listing text with line breaks (LF; CR LF arrives as LF). */
  description: plainText({ max: 20_000, multiline: true }).default(''),
  tags: z.array(Tag).max(20).default([]),
  dataSchema: DataSchema,
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sampleCount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  license: LicenseTerms,
  royaltySplit: RoyaltySplit,
  anonymization: AnonymizationPolicy,
  /** Added after the first release: optional, no default (old listings parse and hash as before). */
  privacy: PrivacyPolicy.optional(),
};

function checkColumns(
  value: { dataSchema?: z.output<typeof DataSchema> | undefined; anonymization?: z.output<typeof AnonymizationPolicy> | undefined },
  ctx: z.RefinementCtx,
): void {
  const { dataSchema, anonymization } = value;
  if (dataSchema?.kind !== 'tabular' || !anonymization) return;
  const names = new Set(dataSchema.columns.map((c) => c.name));
  anonymization.identifierColumns.forEach((c, i) => {
    if (!names.has(c)) ctx.addIssue({ code: 'custom', path: ['anonymization', 'identifierColumns', i], message: `unknown column "${c}"` });
  });
  anonymization.quasiIdentifiers?.columns.forEach((c, i) => {
    if (!names.has(c)) ctx.addIssue({ code: 'custom', path: ['anonymization', 'quasiIdentifiers', 'columns', i], message: `unknown column "${c}"` });
  });
  const qis = new Set(anonymization.quasiIdentifiers?.columns ?? []);
  Object.keys(anonymization.quasiIdentifiers?.hierarchies ?? {}).forEach((c) => {
    if (!qis.has(c)) ctx.addIssue({ code: 'custom', path: ['anonymization', 'quasiIdentifiers', 'hierarchies', c], message: `"${c}" is not a quasi-identifier` });
  });
  for (const field of ['joinKeyColumns', 'nameColumns', 'freeTextColumns'] as const) {
    anonymization[field]?.forEach((c, i) => {
      if (!names.has(c)) ctx.addIssue({ code: 'custom', path: ['anonymization', field, i], message: `unknown column "${c}"` });
    });
  }
}

/**
 * The body of `POST /v1/datasets`.
 *
 * @example
 * ```ts
 * const input = DatasetInput.parse(JSON.parse(body)); // throws with field paths
 * ```
 */
export const DatasetInput = z
  .strictObject({
    ...datasetFields,
    /** An explicit split (basis points, up to 100 recipients): give this or `merkleShares`. */
    royaltySplit: RoyaltySplit.optional(),
    /** A Merkle split (up to 10,000 recipients by units): give this or `royaltySplit`. */
    merkleShares: MerkleShares.optional(),
  })
  .superRefine(checkColumns)
  .superRefine((v, ctx) => {
    if ((v.royaltySplit === undefined) === (v.merkleShares === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['royaltySplit'], message: 'give exactly one of royaltySplit and merkleShares' });
    }
  });
export type DatasetInput = z.output<typeof DatasetInput>;
export type DatasetInputWire = z.input<typeof DatasetInput>;

/**
 * A Merkle listing's editable fields after an update (its split is fixed at creation: the tree is not editable, and
 * its explicit split stays empty).
 */
export const MerkleListingEdit = z.strictObject({ ...datasetFields, royaltySplit: z.tuple([]) }).superRefine(checkColumns);

/** The body of `PATCH /v1/datasets/{id}`: any subset of fields, plus the version being edited (optimistic lock). */
export const DatasetPatch = z
  .strictObject({
    ...Object.fromEntries(Object.entries(datasetFields).map(([k, v]) => [k, v.optional()])),
    expectedVersion: z.number().int().min(1).optional(),
  } as { [K in keyof typeof datasetFields]: z.ZodOptional<(typeof datasetFields)[K]> } & { expectedVersion: z.ZodOptional<z.ZodNumber> })
  .superRefine(checkColumns)
  .refine((p) => Object.keys(p).some((k) => k !== 'expectedVersion'), { message: 'nothing to update' });
export type DatasetPatch = z.output<typeof DatasetPatch>;

/** Lifecycle of a listing. Delisting stops new sales; existing licenses stay valid. */
export const DatasetStatus = z.enum(['active', 'delisted']);

/** A listing as stored and returned. */
export const Dataset = z.object({
  id: z.string(),
  owner: Address,
  version: z.number().int().min(1),
  status: DatasetStatus,
  /** CID of this version's JSON manifest on IPFS. */
  manifestCid: CidString,
  createdAt: IsoDate,
  updatedAt: IsoDate,
  ...datasetFields,
  description: z.string(),
  tags: z.array(Tag),
  license: LicenseTerms.extend({ rawAccess: z.boolean() }),
  /** The explicit split; empty when the listing has a Merkle split. */
  royaltySplit: z.array(RoyaltyShare).max(100),
  /** The Merkle split (root, total units, tree dump CID), when the listing pays many recipients by units. */
  merkleSplit: MerkleSplit.optional(),
  /** Set once the owner registered the listing on the DatasetRegistry (gasless, relayed by the API). */
  chainDatasetId: ChainDatasetId.optional(),
  /** The manifest CID the registry records for it; equals `manifestCid` when the chain is up to date. */
  chainManifestCid: CidString.optional(),
  /** The encrypted data of the current version; absent until the first upload completes. */
  data: DatasetData.optional(),
  /**
   * The policy, and on `GET /v1/datasets/{id}` the ledger too: epsilon spent by finished jobs and reserved by jobs
   * not finished yet (never stored in the listing document).
   */
  privacy: PrivacyPolicy.extend({ epsilonSpent: z.number().min(0).optional(), epsilonReserved: z.number().min(0).optional() }).optional(),
});
export type Dataset = z.output<typeof Dataset>;

/** Query of `GET /v1/datasets`. */
export const DatasetListQuery = PageQuery.extend({
  tag: Tag.optional(),
  owner: Address.optional(),
  q: plainText({ min: 1, max: 200, trim: true }).optional(),
  status: DatasetStatus.default('active'),
});
export type DatasetListQuery = z.output<typeof DatasetListQuery>;

/** A page of listings. */
export const DatasetPage = pageOf(Dataset);
export type DatasetPage = z.output<typeof DatasetPage>;

/** The manifest written to IPFS for every listing version: self-describing, so it can be verified alone. */
export const DatasetManifest = z.object({
  schema: z.literal('provena.dataset-manifest/v1'),
  datasetId: z.string(),
  version: z.number().int().min(1),
  owner: Address,
  previous: CidString.optional(),
  status: DatasetStatus,
  chainDatasetId: ChainDatasetId.optional(),
  /** CID of the encrypted-data manifest of this version, when data was uploaded. */
  dataManifest: CidString.optional(),
  listing: z.object({ ...datasetFields, royaltySplit: z.array(RoyaltyShare).max(100), merkleSplit: MerkleSplit.optional() }),
  createdAt: IsoDate,
});
export type DatasetManifest = z.output<typeof DatasetManifest>;

/** The optional `Idempotency-Key` header of a create: a retry with the same key replays the first result. */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z.string().min(8).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only').optional(),
});
