/**
 * What the worker's anonymizer did to one dataset before the trainer saw a row. It goes into the job's receipt,
 * so it holds counts and column names only: never a value, a name, or the per-job key.
 */
import * as z from 'zod';

/**
 * Kinds of PII the free-text redactor recognizes; each is replaced by the tag `[KIND]` (upper case). `name` is a
 * value of a name column and `identifier` a value of an identifier or join-key column, found again in free text.
 */
export const PiiKind = z.enum(['email', 'phone', 'card', 'iban', 'ipv4', 'ipv6', 'eth_address', 'ssn', 'dob', 'name', 'identifier']);
export type PiiKind = z.output<typeof PiiKind>;

const Count = z.number().int().min(0);

/** The generalization chosen for one quasi-identifier column. */
export const GeneralizedColumn = z.object({
  column: z.string(),
  hierarchy: z.enum(['numeric', 'date', 'prefix', 'categorical']),
  /** Level chosen: 0 keeps the exact value, `maxLevel` replaces it by `*`. */
  level: Count,
  maxLevel: Count,
  /** The level in words: `exact`, `band:10`, `month`, `drop:2`, `*`. */
  label: z.string(),
});
export type GeneralizedColumn = z.output<typeof GeneralizedColumn>;

/**
 * The per-dataset anonymization report.
 *
 * @example
 * ```ts
 * const report = AnonymizationReport.parse(anonymizer.report());
 * receipt.anonymization = { report, hash: anonymizationReportHash(report) };
 * ```
 */
export const AnonymizationReport = z.object({
  schema: z.literal('provena.anonymization-report/v1'),
  rowsIn: Count,
  rowsOut: Count,
  rowsSuppressed: Count,
  /** Rows the generalization plan was computed on (all rows, or a sample: see the anonymizer's README). */
  planRows: Count,
  kAnonymity: z
    .object({
      k: z.number().int().min(2),
      /** Smallest equivalence class in the plan's rows after suppression; 0 when every row was suppressed. */
      kAchieved: Count,
      maxSuppressionFraction: z.number().min(0).max(1),
      /** Mean over planned rows of the fraction of quasi-identifier detail lost (a suppressed row loses all): 0..1. */
      infoLoss: z.number().min(0).max(1),
      search: z.enum(['exhaustive', 'greedy']),
      generalized: z.array(GeneralizedColumn),
    })
    .nullable(),
  columns: z.object({
    dropped: z.array(z.string()),
    pseudonymized: z.array(z.string()),
    /** Free-text columns scanned for PII (whether or not any was found in them). */
    scannedForPii: z.array(z.string()),
  }),
  /** Spans replaced in free text, per kind (every kind present, zero when none). */
  piiCounts: z.record(PiiKind, Count),
});
export type AnonymizationReport = z.output<typeof AnonymizationReport>;
