import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { detectSource, parseCsvHeader } from './formats.js';
import { codeOf } from '../../test/support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}


async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

describe('CSV', () => {
  it('reads the header columns, with quoted names', async () => {
    const src = await detectSource(file('a.csv', 'id,"name, full",age\r\n1,"x, y",3\n'));
    expect(src.format).toBe('csv');
    expect(src.details.columns).toEqual(['id', 'name, full', 'age']);
  });

  it('parses escaped quotes in a header', () => {
    expect(parseCsvHeader('"a ""b""",c')).toEqual(['a "b"', 'c']);
  });

  it('rejects an empty file, an empty header line, and binary content', async () => {
    expect(await codeOf(detectSource(file('empty.csv', '')))).toBe('UPLOAD_SOURCE_INVALID');
    expect(await codeOf(detectSource(file('blank.csv', '\n1,2\n')))).toBe('UPLOAD_SOURCE_INVALID');
    expect(await codeOf(detectSource(file('bin.csv', Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0x00, 0xff, 0xfe]))))).toBe('UPLOAD_SOURCE_INVALID');
    expect(await codeOf(detectSource(file('latin1.csv', Buffer.from([0x61, 0xe9, 0x2c, 0x62, 0x0a]))))).toBe('UPLOAD_SOURCE_INVALID');
  });
});

describe('JSON Lines', () => {
  it('accepts lines that are JSON objects and detects them without an extension', async () => {
    const src = await detectSource(file('rows', '{"a":1}\n{"a":2}\n\n{"a":3}\n'));
    expect(src.format).toBe('jsonl');
    expect(src.details.sampledLines).toBe(3);
  });

  it('rejects a line that is not a JSON object', async () => {
    expect(await codeOf(detectSource(file('bad.jsonl', '{"a":1}\n[1,2]\n')))).toBe('UPLOAD_SOURCE_INVALID');
    expect(await codeOf(detectSource(file('bad2.jsonl', '{"a":1}\n{oops\n')))).toBe('UPLOAD_SOURCE_INVALID');
  });

  it('does not judge a line the 64 KiB sniff window cut in half', async () => {
    const long = `${'{"a":1}\n'.repeat(10)}{"b":"${'x'.repeat(70_000)}"}\n`;
    expect((await detectSource(file('long.jsonl', long))).format).toBe('jsonl');
  });
});

describe('Parquet', () => {
  const parquet = Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from([1, 2, 3, 4]), type: 'INT32' },
        { name: 'email', data: ['a@x', 'b@x', 'c@x', 'd@x'], type: 'STRING' },
      ],
    }),
  );

  it('reads the schema and row count from a real Parquet file, by extension or by magic', async () => {
    for (const name of ['t.parquet', 't.bin']) {
      const src = await detectSource(file(name, parquet));
      expect(src.format).toBe('parquet');
      expect(src.details).toEqual({ columns: ['id', 'email'], rowCount: 4 });
      expect(src.plaintextSize).toBe(parquet.length);
    }
  });

  it('rejects a file without PAR1 at both ends, or with a broken footer', async () => {
    expect(await codeOf(detectSource(file('x.parquet', parquet.subarray(0, parquet.length - 1))))).toBe('UPLOAD_SOURCE_INVALID');
    const broken = Buffer.from(parquet);
    broken.fill(0xff, broken.length - 40, broken.length - 8);
    expect(await codeOf(detectSource(file('y.parquet', broken)))).toBe('UPLOAD_SOURCE_INVALID');
  });

  it('validates an explicit format instead of trusting it', async () => {
    expect(await codeOf(detectSource(file('z.csv', 'a,b\n1,2\n'), { format: 'parquet' }))).toBe('UPLOAD_SOURCE_INVALID');
  });
});

describe('text folder', () => {
  it('lists files recursively in sorted path order and streams them concatenated', async () => {
    const root = join(dir, 'folder');
    mkdirSync(join(root, 'b', 'c'), { recursive: true });
    writeFileSync(join(root, 'b', 'c', 'z.txt'), 'zz');
    writeFileSync(join(root, 'a.md'), 'héllo\n');
    writeFileSync(join(root, 'b', 'a.txt'), '');
    writeFileSync(join(root, 'B.txt'), 'upper');
    const src = await detectSource(root);
    expect(src.format).toBe('text-folder');
    expect(src.files).toEqual([
      { path: 'B.txt', plaintextOffset: 0, size: 5 },
      { path: 'a.md', plaintextOffset: 5, size: 7 },
      { path: 'b/a.txt', plaintextOffset: 12, size: 0 },
      { path: 'b/c/z.txt', plaintextOffset: 12, size: 2 },
    ]);
    expect(src.plaintextSize).toBe(14);
    expect((await collect(src.open())).toString()).toBe('upperhéllo\nzz');
    expect(src.identity.filesDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a binary file, a symbolic link, and an empty folder', async () => {
    const bin = join(dir, 'bin-folder');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ok.txt'), 'text');
    writeFileSync(join(bin, 'img.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
    expect(await codeOf(detectSource(bin))).toBe('UPLOAD_SOURCE_INVALID');

    const link = join(dir, 'link-folder');
    mkdirSync(link);
    symlinkSync('/etc/hostname', join(link, 'l.txt'));
    expect(await codeOf(detectSource(link))).toBe('UPLOAD_SOURCE_INVALID');

    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    expect(await codeOf(detectSource(empty))).toBe('UPLOAD_SOURCE_INVALID');
    expect(await codeOf(detectSource(file('f.txt', 'x'), { format: 'text-folder' }))).toBe('UPLOAD_SOURCE_INVALID');
  });
});
