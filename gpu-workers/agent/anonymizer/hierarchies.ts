/**
 * Generalization hierarchies for quasi-identifiers (full-domain: one level per column applies to every row).
 * Level 0 is the exact value and the top level is `*` for every kind, so the top of the lattice is always
 * one equivalence class.
 */
import type { QuasiIdentifierHierarchy } from '../../../shared/schemas/dataset.js';

/** A cell of a decrypted row. Dates travel as ISO-8601 strings. */
export type Cell = string | number | boolean | null;

/** A row of a decrypted table. */
export type Row = Readonly<Record<string, Cell>>;

/** A hierarchy with its data-dependent parameters fixed (plain data: it is part of a plan). */
export type ResolvedHierarchy =
  | { column: string; kind: 'numeric'; bandWidths: number[] }
  | { column: string; kind: 'date' }
  | { column: string; kind: 'prefix'; maxDrop: number }
  | { column: string; kind: 'categorical' };

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;
const POSTCODE_NAME_RE = /zip|post(?:al)?_?code|postleitzahl|plz|code_postal/i;

/** The top level of `h`: the level at which every value becomes `*`. */
export function maxLevel(h: ResolvedHierarchy): number {
  switch (h.kind) {
    case 'numeric':
      return h.bandWidths.length + 1;
    case 'date':
      return 3;
    case 'prefix':
      return h.maxDrop + 1;
    case 'categorical':
      return 1;
  }
}

/** The level in words, for the report: `exact`, `band:10`, `month`, `drop:2`, `*`. */
export function levelLabel(h: ResolvedHierarchy, level: number): string {
  if (level === 0) return 'exact';
  if (level >= maxLevel(h)) return '*';
  switch (h.kind) {
    case 'numeric':
      return `band:${h.bandWidths[level - 1]}`;
    case 'date':
      return level === 1 ? 'month' : 'year';
    case 'prefix':
      return `drop:${level}`;
    case 'categorical':
      return '*';
  }
}

function asNumber(v: Cell): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Rounds away binary noise so bands read `[0.3,0.4)`, not `[0.30000000000000004,…)`. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * The value of `v` at `level` of `h`. `null` (missing) stays `null` below the top; a value the hierarchy cannot
 * read (text in a numeric column) becomes `*` above level 0, so it never survives generalization.
 */
export function generalize(h: ResolvedHierarchy, v: Cell, level: number): Cell {
  if (level === 0) return v;
  if (level >= maxLevel(h)) return '*';
  if (v === null) return null;
  switch (h.kind) {
    case 'numeric': {
      const x = asNumber(v);
      const w = h.bandWidths[level - 1] as number;
      if (x === undefined) return '*';
      const lo = tidy(Math.floor(x / w) * w);
      return `[${lo},${tidy(lo + w)})`;
    }
    case 'date': {
      const m = typeof v === 'string' ? ISO_DATE_RE.exec(v) : null;
      if (!m) return '*';
      return level === 1 ? `${m[1]}-${m[2]}` : (m[1] as string);
    }
    case 'prefix': {
      const s = String(v);
      if (s.length <= level) return '*';
      return s.slice(0, s.length - level) + '*'.repeat(level);
    }
    case 'categorical':
      return '*';
  }
}

/** Band widths 1, 2, 5 × 10^e between a 64th and a half of the values' range (at least one width). */
function defaultBandWidths(values: readonly Cell[]): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const x = asNumber(v);
    if (x === undefined) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const range = max - min;
  if (!Number.isFinite(range) || range <= 0) return [1];
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(range / 64)) - 1; e <= Math.ceil(Math.log10(range)); e++) {
    for (const c of [1, 2, 5]) {
      const w = tidy(c * 10 ** e);
      if (w >= range / 64 && w <= range / 2) out.push(w);
    }
  }
  return out.length > 0 ? out : [tidy(range)];
}

/**
 * Fixes the hierarchy of one quasi-identifier: the policy's hint when given, else inferred from the values
 * (all numbers → numeric; all ISO dates → date; a column named like a postcode → prefix; else categorical).
 */
export function resolveHierarchy(column: string, hint: QuasiIdentifierHierarchy | undefined, values: readonly Cell[]): ResolvedHierarchy {
  const present = values.filter((v) => v !== null);
  const kind =
    hint?.kind ??
    (present.length > 0 && present.every((v) => typeof v === 'number')
      ? 'numeric'
      : present.length > 0 && present.every((v) => typeof v === 'string' && ISO_DATE_RE.test(v))
        ? 'date'
        : POSTCODE_NAME_RE.test(column)
          ? 'prefix'
          : 'categorical');
  switch (kind) {
    case 'numeric':
      return { column, kind, bandWidths: hint?.kind === 'numeric' && hint.bandWidths ? [...hint.bandWidths] : defaultBandWidths(present) };
    case 'prefix': {
      const longest = present.reduce<number>((m, v) => Math.max(m, String(v).length), 1);
      return { column, kind, maxDrop: hint?.kind === 'prefix' && hint.maxDrop !== undefined ? hint.maxDrop : Math.min(5, Math.max(1, longest - 1)) };
    }
    case 'date':
    case 'categorical':
      return { column, kind };
  }
}
