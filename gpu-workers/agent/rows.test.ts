import { describe, expect, it } from '@jest/globals';
import { csvRecords, parseRows } from './rows.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('rows from decrypted data', () => {
  it('splits CSV with quotes, doubled quotes, embedded newlines and CRLF', () => {
    expect(csvRecords('a,b\r\n"x, y","he said ""hi"""\r\n"multi\nline",2\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"'],
      ['multi\nline', '2'],
    ]);
  });

  it('types CSV values by the declared columns and infers numbers elsewhere', () => {
    const rows = parseRows('csv', enc('id,age,ok,zip,note\n7,41,true,02139,\n'), [
      { name: 'age', type: 'integer' },
      { name: 'ok', type: 'boolean' },
      { name: 'zip', type: 'string' },
    ]);

    expect(rows).toEqual([{ id: 7, age: 41, ok: true, zip: '02139', note: null }]);
  });

  it('reads JSON Lines objects, stringifying nested values', () => {
    expect(parseRows('jsonl', enc('{"a":1,"b":{"c":2}}\n\n{"a":null,"b":"x"}\n'))).toEqual([
      { a: 1, b: '{"c":2}' },
      { a: null, b: 'x' },
    ]);
  });

  it('refuses a ragged CSV record, a non-number in a numeric column, and unsupported formats, with codes', () => {
    expect(() => parseRows('csv', enc('a,b\n1\n'))).toThrow(expect.objectContaining({ code: 'WORKER_DATA_INVALID' }));
    expect(() => parseRows('csv', enc('a\nx\n'), [{ name: 'a', type: 'float' }])).toThrow(expect.objectContaining({ code: 'WORKER_DATA_INVALID' }));
    expect(() => parseRows('parquet', enc('PAR1'))).toThrow(expect.objectContaining({ code: 'WORKER_DATA_FORMAT_UNSUPPORTED' }));
  });
});
