/** Bytes and samples counted while a source is read for encryption (issue 8, item 7). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { detectSource, measurerFor } from './formats.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-measure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}

async function measure(path: string) {
  const src = await detectSource(path);
  const m = measurerFor(src);
  for await (const piece of src.open()) m.update(piece);
  return m.result();
}

describe('measured data', () => {
  it('counts CSV records after the header, with quoted newlines, CRLF, blank lines and no final newline', async () => {
    const csv = 'id,note\r\n1,"two\nlines"\r\n\r\n2,plain\n3,"quote "" inside"';

    expect(await measure(file('a.csv', csv))).toEqual({ bytes: Buffer.byteLength(csv), rows: 3 });
  });

  it('counts non-empty JSON Lines lines', async () => {
    const jsonl = '{"a":1}\n\n{"a":"x\\ny"}\n  \n{"a":3}\n';

    expect(await measure(file('a.jsonl', jsonl))).toEqual({ bytes: Buffer.byteLength(jsonl), rows: 3 });
  });

  it('counts Parquet rows and text-folder files', async () => {
    const parquet = parquetWriteBuffer({ columnData: [{ name: 'a', data: [1, 2, 3, 4, 5], type: 'INT32' }] });
    const folder = join(dir, 'texts');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.txt'), 'one');
    writeFileSync(join(folder, 'b.txt'), 'two\nlines');

    expect((await measure(file('a.parquet', new Uint8Array(parquet)))).rows).toBe(5);
    expect(await measure(folder)).toEqual({ bytes: 12, rows: 2 });
  });

  it('counts the same CSV rows however the stream is cut into pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.boolean()), { maxLength: 30 }), fc.array(fc.nat(200), { maxLength: 10 }), (rows, cuts) => {
        // Rows of one quoted field (quotes doubled, newlines allowed inside), each ending with LF or CRLF.
        const body = rows.map(([v, crlf]) => `"${v.replace(/"/g, '""')}"${crlf ? '\r\n' : '\n'}`).join('');
        const bytes = Buffer.from(`h\n${body}`);
        const m = measurerFor({ format: 'csv', details: {} });
        let at = 0;
        for (const c of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(c, bytes.length);
          if (end > at) m.update(bytes.subarray(at, end));
          at = Math.max(at, end);
        }
        m.update(bytes.subarray(at));
        expect(m.result()).toEqual({ bytes: bytes.length, rows: rows.length });
      }),
    );
  });
});
