/**
 * `provena dataset create --split-file`: a Merkle split's recipients from a CSV (`account,units` per line; an
 * optional header line and `#` comments) or a JSON file (an array of `{account, units}`), checked with the same
 * schema the API applies (`MerkleShares`), so a bad line is named before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { ValidationError, toFieldIssues } from '../shared/errors.js';
import { MerkleShares, type MerkleShare } from '../shared/schemas/dataset.js';

/** Parses the text of a split file (`name` decides the format: `.json`, else CSV). */
export function parseSplitFile(name: string, text: string): MerkleShare[] {
  const { rows, lines } = name.toLowerCase().endsWith('.json') ? { rows: parseJson(name, text), lines: [] } : parseCsv(text);
  const parsed = MerkleShares.safeParse(rows);
  if (parsed.success) return parsed.data;
  // A CSV row's issues name its line in the file (`line 7`), not its index among the rows.
  const where = (path: (string | number)[]) => {
    const [row, ...rest] = path;
    return typeof row === 'number' && lines[row] !== undefined ? [`line ${lines[row]}`, ...rest] : path;
  };
  throw new ValidationError(`${name}: invalid split`, toFieldIssues(parsed.error.issues).map((i) => ({ ...i, path: [name, ...where(i.path)] })));
}

/** Reads a split file from disk. */
export function readSplitFile(path: string): MerkleShare[] {
  return parseSplitFile(path, readFileSync(path, 'utf8'));
}

function parseJson(name: string, text: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value : (value as { merkleShares?: unknown })?.merkleShares;
  } catch (err) {
    throw new ValidationError(`${name} is not valid JSON`, [{ path: [name], message: (err as Error).message }]);
  }
}

/** Rows as `{account, units}` and each one's 1-based line number. */
function parseCsv(text: string): { rows: { account: string; units: string }[]; lines: number[] } {
  const rows: { account: string; units: string }[] = [];
  const lines: number[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const [account = '', units = ''] = t.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    if (rows.length === 0 && !account.startsWith('0x')) return; // a header line
    rows.push({ account, units });
    lines.push(i + 1);
  });
  return { rows, lines };
}
