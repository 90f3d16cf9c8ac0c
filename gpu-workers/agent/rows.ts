/**
 * Decrypted bytes → rows (column → value records), in memory only. CSV (RFC 4180: quotes, doubled quotes,
 * newlines inside quotes, CRLF) and JSON Lines. Values are typed by the listing's declared columns where it has
 * them (integer/float → number, boolean → true/false, empty → null); undeclared columns keep a number when the
 * text is one. Parquet and text folders are refused with `WORKER_DATA_FORMAT_UNSUPPORTED` for now.
 */
import { ProvenaError } from '../../shared/errors.js';
import type { Cell } from './anonymizer/index.js';

/** A declared column (the listing's `dataSchema.columns`). */
export interface ColumnDecl {
  name: string;
  type: string;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function typed(raw: string, type: string | undefined): Cell {
  if (raw === '') return null;
  if (type === 'integer' || type === 'float' || (type === undefined && NUMBER.test(raw.trim()))) {
    const n = Number(raw.trim());
    if (!Number.isFinite(n)) {
      if (type === undefined) return raw;
      throw new ProvenaError('WORKER_DATA_INVALID', `a ${type} column holds a value that is not a number`);
    }
    return n;
  }
  if (type === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ProvenaError('WORKER_DATA_INVALID', 'a boolean column holds a value that is not true/false');
  }
  return raw;
}

/** Splits CSV text into records of fields (RFC 4180). */
export function csvRecords(text: string): string[][] {
  const out: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (!(record.length === 1 && record[0] === '')) out.push(record);
      record = [];
    } else field += ch;
  }
  if (quoted) throw new ProvenaError('WORKER_DATA_INVALID', 'CSV ends inside a quoted field');
  if (field.length > 0 || record.length > 0) {
    record.push(field);
    out.push(record);
  }
  return out;
}

/** Parses decrypted data of `format` into rows. */
export function parseRows(format: string, bytes: Uint8Array, columns: readonly ColumnDecl[] = []): Record<string, Cell>[] {
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  if (format === 'csv') {
    const [header, ...records] = csvRecords(text);
    if (!header) throw new ProvenaError('WORKER_DATA_INVALID', 'CSV has no header line');
    const names = header.map((h) => h.trim());
    return records.map((rec, n) => {
      if (rec.length !== names.length) throw new ProvenaError('WORKER_DATA_INVALID', `CSV record ${n + 1} has ${rec.length} fields, the header ${names.length}`);
      return Object.fromEntries(names.map((name, j) => [name, typed(rec[j] as string, types.get(name))]));
    });
  }
  if (format === 'jsonl') {
    return text
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((line, n) => {
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          throw new ProvenaError('WORKER_DATA_INVALID', `JSON Lines line ${n + 1} is not JSON`);
        }
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProvenaError('WORKER_DATA_INVALID', `JSON Lines line ${n + 1} is not an object`);
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [k, x === null || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string' ? (typeof x === 'string' && types.has(k) ? typed(x, types.get(k)) : x) : JSON.stringify(x)]),
        );
      });
  }
  throw new ProvenaError('WORKER_DATA_FORMAT_UNSUPPORTED', `the worker does not read ${format} data yet`);
}
