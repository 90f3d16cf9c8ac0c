/**
 * Planning: everything the anonymizer must know about the whole table before it can treat a batch. k-anonymity is a
 * property of the whole table, so the generalization is chosen over all rows (or a sample: see README.md), and
 * the names to redact are collected from every row's name columns.
 */
import * as z from 'zod';
import { ProvenaError, ValidationError, toFieldIssues } from '../../../shared/errors.js';
import { AnonymizationPolicy } from '../../../shared/schemas/dataset.js';
import { type Cell, type ResolvedHierarchy, type Row, resolveHierarchy } from './hierarchies.js';
import { type SearchLimits, searchLattice } from './lattice.js';
import { DEFAULT_PHONE_REGIONS, identifierToken, nameTokens } from './redact.js';

/** Fraction of rows the anonymizer may suppress when the policy does not say. */
export const DEFAULT_MAX_SUPPRESSION_FRACTION = 0.05;
/** Rows a plan may be computed on when the caller does not say: all of them are held in memory. */
export const DEFAULT_MAX_PLAN_ROWS = 1_000_000;

/** How to plan. */
export interface PlanOptions {
  /** Most rows accepted (default {@link DEFAULT_MAX_PLAN_ROWS}); more is `ANONYMIZATION_TOO_MANY_ROWS`. */
  maxPlanRows?: number;
  /** Work budget of the exact lattice search before it falls back to a greedy climb. */
  limits?: SearchLimits;
}

/** The quasi-identifier part of a plan. */
export interface QuasiIdentifierPlan {
  k: number;
  maxSuppressionFraction: number;
  hierarchies: ResolvedHierarchy[];
  /** Level chosen per hierarchy (same order). */
  levels: number[];
  /** Classes (generalized tuples) with at least k rows among the planned rows: a row outside them is suppressed. */
  keptClasses: Set<string>;
  kAchieved: number;
  suppressedRows: number;
  infoLoss: number;
  search: 'exhaustive' | 'greedy';
}

/**
 * What {@link planGeneralization} decided. It holds no key, but it does hold name tokens and generalized class
 * keys derived from the data: it lives in the worker's memory only, never logged or sent.
 */
export interface AnonymizationPlan {
  dropped: string[];
  joinKeys: string[];
  quasiIdentifiers: QuasiIdentifierPlan | null;
  redactTextPii: boolean;
  /** Columns scanned for PII; `null`: every string column not dropped, pseudonymized or generalized. */
  freeTextColumns: string[] | null;
  nameColumns: string[];
  phoneRegions: string[];
  names: Set<string>;
  /** Identifier and join-key values (see `identifierToken`), redacted where free text repeats them. */
  identifiers: Set<string>;
  /** The columns `identifiers` is collected from: identifier and join-key columns. */
  identifierSources: string[];
  planRows: number;
}

/**
 * Computes the plan over `rows` for `policy` (the listing's `anonymization` field, wire or parsed form).
 *
 * @throws ValidationError `VALIDATION_FAILED` when `policy` does not parse.
 * @throws ProvenaError `ANONYMIZATION_TOO_MANY_ROWS` above `maxPlanRows`; `ANONYMIZATION_INFEASIBLE` when k cannot be met.
 * @example
 * ```ts
 * const plan = planGeneralization(allRows, listing.anonymization);
 * const anonymizer = createAnonymizer(plan, jobKey);
 * for (const batch of batches) send(anonymizer.applyPlan(batch));
 * ```
 */
export function planGeneralization(rows: readonly Row[], policy: z.input<typeof AnonymizationPolicy>, options: PlanOptions = {}): AnonymizationPlan {
  const parsed = AnonymizationPolicy.safeParse(policy);
  if (!parsed.success) throw new ValidationError('Invalid anonymization policy', toFieldIssues(parsed.error.issues));
  const p = parsed.data;
  const maxPlanRows = options.maxPlanRows ?? DEFAULT_MAX_PLAN_ROWS;
  if (rows.length > maxPlanRows) {
    throw new ProvenaError(
      'ANONYMIZATION_TOO_MANY_ROWS',
      `The anonymization plan is computed in memory over at most ${maxPlanRows} rows; got ${rows.length}. Raise maxPlanRows if the enclave has the memory, or plan on a sample (more rows are then suppressed).`,
      { details: { rows: rows.length, maxPlanRows } },
    );
  }
  const nameColumns = p.nameColumns ?? [];
  const dropped = [...new Set([...p.identifierColumns, ...nameColumns])].sort();
  const joinKeys = [...new Set(p.joinKeyColumns ?? [])].filter((c) => !dropped.includes(c)).sort();
  const names = new Set<string>();
  addNames(names, rows, nameColumns);
  const identifierSources = [...new Set([...p.identifierColumns, ...joinKeys])].sort();
  const identifiers = new Set<string>();
  addIdentifiers(identifiers, rows, identifierSources);
  return {
    dropped,
    joinKeys,
    quasiIdentifiers: planQuasiIdentifiers(rows, p, new Set([...dropped, ...joinKeys]), options.limits),
    redactTextPii: p.redactTextPii,
    freeTextColumns: p.freeTextColumns ? [...p.freeTextColumns] : null,
    nameColumns: [...nameColumns],
    phoneRegions: [...(p.phoneRegions ?? DEFAULT_PHONE_REGIONS)],
    names,
    identifiers,
    identifierSources,
    planRows: rows.length,
  };
}

/** Adds the name tokens of `rows`' name columns to `names`. */
export function addNames(names: Set<string>, rows: readonly Row[], nameColumns: readonly string[]): void {
  for (const row of rows) {
    for (const c of nameColumns) {
      const v = row[c];
      if (typeof v === 'string') for (const t of nameTokens(v)) names.add(t);
    }
  }
}

/** Adds the identifier tokens of `rows`' identifier and join-key columns to `identifiers`. */
export function addIdentifiers(identifiers: Set<string>, rows: readonly Row[], columns: readonly string[]): void {
  for (const row of rows) {
    for (const c of columns) {
      const t = identifierToken(row[c] ?? null);
      if (t !== undefined) identifiers.add(t);
    }
  }
}

function planQuasiIdentifiers(rows: readonly Row[], p: AnonymizationPolicy, handled: Set<string>, limits: SearchLimits | undefined): QuasiIdentifierPlan | null {
  const qi = p.quasiIdentifiers;
  const columns = (qi?.columns ?? []).filter((c) => !handled.has(c));
  if (!qi || columns.length === 0) return null;
  const tuples: Cell[][] = rows.map((r) => columns.map((c) => r[c] ?? null));
  const hierarchies = columns.map((c, i) => resolveHierarchy(c, qi.hierarchies?.[c], tuples.map((t) => t[i] ?? null)));
  const maxSuppressionFraction = qi.maxSuppressionFraction ?? DEFAULT_MAX_SUPPRESSION_FRACTION;
  const choice = searchLattice(hierarchies, tuples, qi.k, maxSuppressionFraction, limits);
  return {
    k: qi.k,
    maxSuppressionFraction,
    hierarchies,
    levels: choice.levels,
    keptClasses: choice.keptClasses,
    kAchieved: choice.kAchieved,
    suppressedRows: choice.suppressedRows,
    infoLoss: choice.infoLoss,
    search: choice.search,
  };
}
