/**
 * Full-domain generalization search for k-anonymity with suppression. A lattice node gives one level per
 * quasi-identifier; rows in equivalence classes smaller than k are suppressed; a node is feasible when it
 * suppresses at most `maxSuppressionFraction` of the rows.
 *
 * Information loss of a node (0..1): the mean over rows of the fraction of quasi-identifier detail lost, where a
 * kept row loses the mean normalized height (level / top level) of the node and a suppressed row loses everything:
 * `loss = (1 - s) * meanHeight + s`, `s` the suppressed fraction. Since `loss >= meanHeight`, visiting nodes in
 * order of mean height lets the search stop once `meanHeight` reaches the best loss found: the result is the
 * least-loss feasible node (branch and bound), within a work budget after which a greedy climb takes over.
 */
import { ProvenaError } from '../../../shared/errors.js';
import { type Cell, type ResolvedHierarchy, generalize, maxLevel } from './hierarchies.js';

/** The outcome of evaluating one lattice node. */
export interface NodeEvaluation {
  levels: number[];
  suppressedRows: number;
  /** Smallest class among those kept (size >= k); 0 when none is kept. */
  kAchieved: number;
  infoLoss: number;
}

/** The chosen node and how it was found. */
export interface LatticeChoice extends NodeEvaluation {
  search: 'exhaustive' | 'greedy';
  /** Keys ({@link classKey}) of the generalized classes kept: a row whose class is not here is suppressed. */
  keptClasses: Set<string>;
}

/** Limits of the search. */
export interface SearchLimits {
  /** Most (node × distinct tuple) visits the exhaustive search may spend before it falls back to greedy. */
  maxWork: number;
}

/** The class key of a generalized quasi-identifier tuple (typed: `1` and `"1"` differ). */
export function classKey(tuple: readonly Cell[]): string {
  return JSON.stringify(tuple);
}

interface Encoded {
  /** Distinct level-0 tuples: per column the index of its raw value. */
  tuples: Int32Array[];
  counts: number[];
  /** Per column, per level, the code of each raw value's generalization. */
  codes: Int32Array[][];
  raw: Cell[][];
  total: number;
}

function encode(hierarchies: readonly ResolvedHierarchy[], rows: readonly (readonly Cell[])[]): Encoded {
  const rawIndex = hierarchies.map(() => new Map<string, number>());
  const raw: Cell[][] = hierarchies.map(() => []);
  const tupleIndex = new Map<string, number>();
  const tuples: Int32Array[] = [];
  const counts: number[] = [];
  for (const row of rows) {
    const t = new Int32Array(hierarchies.length);
    for (let c = 0; c < hierarchies.length; c++) {
      const v = row[c] ?? null;
      const key = classKey([v]);
      let i = rawIndex[c]!.get(key);
      if (i === undefined) {
        i = raw[c]!.length;
        raw[c]!.push(v);
        rawIndex[c]!.set(key, i);
      }
      t[c] = i;
    }
    const tk = t.join(',');
    const at = tupleIndex.get(tk);
    if (at === undefined) {
      tupleIndex.set(tk, tuples.length);
      tuples.push(t);
      counts.push(1);
    } else counts[at]! += 1;
  }
  const codes = hierarchies.map((h, c) => {
    const perLevel: Int32Array[] = [];
    for (let level = 0; level <= maxLevel(h); level++) {
      const ids = new Map<string, number>();
      perLevel.push(Int32Array.from(raw[c]!, (v) => {
        const k = classKey([generalize(h, v, level)]);
        let id = ids.get(k);
        if (id === undefined) ids.set(k, (id = ids.size));
        return id;
      }));
    }
    return perLevel;
  });
  return { tuples, counts, codes, raw, total: rows.length };
}

function meanHeight(hierarchies: readonly ResolvedHierarchy[], levels: readonly number[]): number {
  if (hierarchies.length === 0) return 0;
  return hierarchies.reduce((s, h, c) => s + (levels[c] as number) / maxLevel(h), 0) / hierarchies.length;
}

function evaluate(enc: Encoded, hierarchies: readonly ResolvedHierarchy[], levels: number[], k: number): NodeEvaluation & { classOf: string[]; sizes: Map<string, number> } {
  const sizes = new Map<string, number>();
  const classOf: string[] = new Array<string>(enc.tuples.length);
  for (let i = 0; i < enc.tuples.length; i++) {
    const t = enc.tuples[i]!;
    let key = '';
    for (let c = 0; c < t.length; c++) key += `${enc.codes[c]![levels[c]!]![t[c]!]},`;
    classOf[i] = key;
    sizes.set(key, (sizes.get(key) ?? 0) + enc.counts[i]!);
  }
  let suppressedRows = 0;
  let kAchieved = 0;
  for (const size of sizes.values()) {
    if (size < k) suppressedRows += size;
    else if (kAchieved === 0 || size < kAchieved) kAchieved = size;
  }
  const s = enc.total === 0 ? 0 : suppressedRows / enc.total;
  return { levels, suppressedRows, kAchieved, infoLoss: (1 - s) * meanHeight(hierarchies, levels) + s, classOf, sizes };
}

function allNodes(hierarchies: readonly ResolvedHierarchy[], cap: number): number[][] | undefined {
  let nodes: number[][] = [[]];
  for (const h of hierarchies) {
    const next: number[][] = [];
    for (const n of nodes) for (let l = 0; l <= maxLevel(h); l++) next.push([...n, l]);
    if (next.length > cap) return undefined;
    nodes = next;
  }
  return nodes;
}

/**
 * Chooses the least-loss feasible generalization of `rows` (each row: the quasi-identifier values, in the order of
 * `hierarchies`) for k-anonymity with at most `maxSuppressionFraction` of rows suppressed.
 *
 * @throws ProvenaError `ANONYMIZATION_INFEASIBLE` when even `*` everywhere cannot keep enough rows (fewer rows than k).
 */
export function searchLattice(
  hierarchies: readonly ResolvedHierarchy[],
  rows: readonly (readonly Cell[])[],
  k: number,
  maxSuppressionFraction: number,
  limits: SearchLimits = { maxWork: 50_000_000 },
): LatticeChoice {
  const enc = encode(hierarchies, rows);
  const feasible = (e: NodeEvaluation): boolean => e.suppressedRows <= maxSuppressionFraction * enc.total;
  const top = hierarchies.map(maxLevel);
  if (!feasible(evaluate(enc, hierarchies, top, k))) {
    throw new ProvenaError(
      'ANONYMIZATION_INFEASIBLE',
      `k-anonymity with k=${k} cannot be met on ${enc.total} rows while suppressing at most ${maxSuppressionFraction * 100}% of them`,
      { details: { k, rows: enc.total, maxSuppressionFraction } },
    );
  }
  let best: ReturnType<typeof evaluate> | undefined;
  let search: LatticeChoice['search'] = 'exhaustive';
  const perNode = Math.max(1, enc.tuples.length);
  const nodes = allNodes(hierarchies, Math.floor(limits.maxWork / perNode));
  if (nodes) {
    const ordered = nodes.map((levels) => ({ levels, h: meanHeight(hierarchies, levels) })).sort((a, b) => a.h - b.h);
    let work = 0;
    for (const { levels, h } of ordered) {
      if (best && h >= best.infoLoss) break;
      work += perNode;
      if (work > limits.maxWork) {
        search = 'greedy';
        break;
      }
      const e = evaluate(enc, hierarchies, levels, k);
      if (feasible(e) && (!best || e.infoLoss < best.infoLoss)) best = e;
    }
  } else search = 'greedy';
  if (search === 'greedy') {
    const g = greedy(enc, hierarchies, k, feasible);
    if (!best || g.infoLoss < best.infoLoss) best = g;
  }
  const chosen = best as ReturnType<typeof evaluate>;
  const keptClasses = new Set<string>();
  enc.tuples.forEach((t, i) => {
    if ((chosen.sizes.get(chosen.classOf[i]!) ?? 0) >= k) {
      keptClasses.add(classKey(hierarchies.map((h, c) => generalize(h, enc.raw[c]![t[c]!]!, chosen.levels[c]!))));
    }
  });
  return { levels: chosen.levels, suppressedRows: chosen.suppressedRows, kAchieved: chosen.kAchieved, infoLoss: chosen.infoLoss, search, keptClasses };
}

/** Climbs from the bottom, one level of one column at a time, taking the step that suppresses fewest rows. */
function greedy(enc: Encoded, hierarchies: readonly ResolvedHierarchy[], k: number, feasible: (e: NodeEvaluation) => boolean): ReturnType<typeof evaluate> {
  let current = evaluate(enc, hierarchies, hierarchies.map(() => 0), k);
  while (!feasible(current)) {
    let next: ReturnType<typeof evaluate> | undefined;
    hierarchies.forEach((h, c) => {
      if (current.levels[c]! >= maxLevel(h)) return;
      const e = evaluate(enc, hierarchies, current.levels.map((l, i) => (i === c ? l + 1 : l)), k);
      if (!next || e.suppressedRows < next.suppressedRows || (e.suppressedRows === next.suppressedRows && e.infoLoss < next.infoLoss)) next = e;
    });
    current = next as ReturnType<typeof evaluate>; // the top is feasible (checked), so a step always exists before it
  }
  return current;
}
