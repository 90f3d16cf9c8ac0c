/**
 * Applying a plan, batch by batch, in the worker before any row reaches the trainer: direct identifiers and name
 * columns dropped, join keys pseudonymized under the per-job key, quasi-identifiers generalized, rows outside the
 * plan's kept classes suppressed, free text redacted. Counts accumulate into one report per dataset.
 */
import type { z } from 'zod';
import type { AnonymizationReport, PiiKind } from '../../../shared/schemas/anonymizationReport.js';
import { PiiKind as PiiKinds } from '../../../shared/schemas/anonymizationReport.js';
import type { AnonymizationPolicy } from '../../../shared/schemas/dataset.js';
import { type Cell, type Row, generalize, levelLabel, maxLevel } from './hierarchies.js';
import { classKey } from './lattice.js';
import { type AnonymizationPlan, type PlanOptions, addIdentifiers, addNames, planGeneralization } from './plan.js';
import { createPseudonymizer } from './pseudonymize.js';
import { redactText } from './redact.js';

/** A stateful anonymizer for one job and one dataset. */
export interface Anonymizer {
  /** The anonymized rows of `batch` (suppressed rows left out), in order. */
  applyPlan(batch: readonly Row[]): Record<string, Cell>[];
  /** The report so far (call after the last batch). */
  report(): AnonymizationReport;
  /** Zeroes this anonymizer's copy of the job key; later batches fail with `ANONYMIZATION_KEY_INVALID`. */
  dispose(): void;
}

/**
 * An anonymizer applying `plan`, pseudonymizing join keys under `jobKey` (32 bytes; copied, never returned).
 *
 * Suppression is by class membership: a row is kept only when its generalized quasi-identifiers form a class the
 * plan saw at least k times. When the batches are a superset of the planned rows, every class in the output
 * therefore has at least k rows.
 *
 * @throws ProvenaError `ANONYMIZATION_KEY_INVALID` when `jobKey` is not 32 bytes.
 */
export function createAnonymizer(plan: AnonymizationPlan, jobKey: Uint8Array): Anonymizer {
  const { pseudonymize, dispose } = createPseudonymizer(jobKey);
  const dropped = new Set(plan.dropped);
  const joinKeys = new Set(plan.joinKeys);
  const qi = plan.quasiIdentifiers;
  const qiColumns = new Set(qi?.hierarchies.map((h) => h.column) ?? []);
  const freeText = plan.freeTextColumns ? new Set(plan.freeTextColumns) : null;
  const names = new Set(plan.names);
  const identifiers = new Set(plan.identifiers);
  const piiCounts = Object.fromEntries(PiiKinds.options.map((k) => [k, 0])) as Record<PiiKind, number>;
  const classSizes = new Map<string, number>();
  const scanned = new Set<string>();
  let rowsIn = 0;
  let rowsOut = 0;

  const redactCell = (column: string, v: Cell): Cell => {
    if (typeof v !== 'string' || !plan.redactTextPii || (freeText && !freeText.has(column))) return v;
    scanned.add(column);
    const { text, spans } = redactText(v, { phoneRegions: plan.phoneRegions, names, identifiers });
    for (const s of spans) piiCounts[s.kind] += 1;
    return text;
  };

  const applyRow = (row: Row): Record<string, Cell> | undefined => {
    const out: Record<string, Cell> = {};
    if (qi) {
      const tuple = qi.hierarchies.map((h, i) => generalize(h, row[h.column] ?? null, qi.levels[i] as number));
      const key = classKey(tuple);
      if (!qi.keptClasses.has(key)) return undefined;
      classSizes.set(key, (classSizes.get(key) ?? 0) + 1);
      qi.hierarchies.forEach((h, i) => (out[h.column] = tuple[i] as Cell));
    }
    for (const [column, v] of Object.entries(row)) {
      if (dropped.has(column) || qiColumns.has(column)) continue;
      out[column] = joinKeys.has(column) ? pseudonymize(v) : redactCell(column, v);
    }
    return out;
  };

  return {
    applyPlan(batch) {
      // Names first appearing in this batch are redacted in this batch too (the plan may have seen a sample).
      addNames(names, batch, plan.nameColumns);
      addIdentifiers(identifiers, batch, plan.identifierSources);
      const out: Record<string, Cell>[] = [];
      for (const row of batch) {
        rowsIn += 1;
        const r = applyRow(row);
        if (r) out.push(r);
      }
      rowsOut += out.length;
      return out;
    },
    report() {
      let kAchieved = 0;
      for (const size of classSizes.values()) if (kAchieved === 0 || size < kAchieved) kAchieved = size;
      return {
        schema: 'provena.anonymization-report/v1',
        rowsIn,
        rowsOut,
        rowsSuppressed: rowsIn - rowsOut,
        planRows: plan.planRows,
        kAnonymity: qi && {
          k: qi.k,
          kAchieved,
          maxSuppressionFraction: qi.maxSuppressionFraction,
          infoLoss: Number(qi.infoLoss.toFixed(6)),
          search: qi.search,
          generalized: qi.hierarchies.map((h, i) => ({
            column: h.column,
            hierarchy: h.kind,
            level: qi.levels[i] as number,
            maxLevel: maxLevel(h),
            label: levelLabel(h, qi.levels[i] as number),
          })),
        },
        columns: { dropped: [...plan.dropped], pseudonymized: [...plan.joinKeys], scannedForPii: [...scanned].sort() },
        piiCounts: { ...piiCounts },
      };
    },
    dispose,
  };
}

/**
 * Plans over all of `rows` and applies the plan: the whole table in one call (what the worker does when the
 * decrypted dataset fits in the enclave's memory).
 *
 * @example
 * ```ts
 * const { rows: clean, report } = anonymizeTable(rows, listing.anonymization, jobKey);
 * ```
 */
export function anonymizeTable(
  rows: readonly Row[],
  policy: z.input<typeof AnonymizationPolicy>,
  jobKey: Uint8Array,
  options: PlanOptions = {},
): { rows: Record<string, Cell>[]; report: AnonymizationReport } {
  const anonymizer = createAnonymizer(planGeneralization(rows, policy, options), jobKey);
  try {
    const out = anonymizer.applyPlan(rows);
    return { rows: out, report: anonymizer.report() };
  } finally {
    anonymizer.dispose();
  }
}
