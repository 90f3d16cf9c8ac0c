import { describe, expect, it } from '@jest/globals';
import type { Dataset } from '../../shared/schemas/dataset.js';
import { runCli } from '../../test/support/cli.js';
import { print, printJson, type Output } from '../context.js';
import { datasetSummary } from './dataset.js';

/** Anything a terminal would act on, or that reorders what it shows. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_TITLE = 'Sales\u001b]0;pwned\u0007 \u001b[2J\u202Etxt.exe\u009b31m';

/**
 * The listing as the API would answer it if a hostile title got through (built here: the schema is being made
 * to refuse such titles, and this test must not depend on what the API accepts).
 */
const hostile = {
  id: 'ds_hostile',
  title: HOSTILE_TITLE,
  description: 'desc\u001b[1A',
  tags: ['t\u202Eag'],
  status: 'active',
  version: 1,
  owner: '0x0000000000000000000000000000000000000001',
  manifestCid: 'bafy-manifest',
  license: { pricePerSample: '25' },
} as unknown as Dataset;

function capture(): Output & { text: string } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('what the dataset commands print', () => {
  it('escapes a hostile title in the human listing (dataset list/create/update/delist) instead of writing it raw', () => {
    const out = capture();
    print({ json: false }, { items: [hostile] }, () => datasetSummary(hostile), out);
    expect(out.text).not.toMatch(RAW_CONTROL);
    expect(out.text).toContain('Sales\\x1b]0;pwned\\x07 \\x1b[2J\\u202etxt.exe\\x9b31m');
    expect(out.text).toContain('ds_hostile  v1  active          25/sample  ');
    expect(out.text.split('\n')).toHaveLength(3);
  });

  it('prints dataset show and --json output as JSON with every control escaped, parsing back to the same listing', () => {
    const shown = capture();
    printJson(hostile, shown);
    const listed = capture();
    print({ json: true }, { items: [hostile] }, () => 'unused', listed);
    for (const out of [shown, listed]) expect(out.text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(shown.text)).toEqual(hostile);
    expect((JSON.parse(listed.text) as { items: Dataset[] }).items[0]?.title).toBe(HOSTILE_TITLE);
  });

  it('escapes hostile text in an error message on stderr (the CLI run as a user runs it)', async () => {
    const r = await runCli(['--key-file', `/nonexistent/\u001b]0;pwned\u0007\u202E.key`, 'key', 'address']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('\\x1b]0;pwned\\x07\\u202e.key');
    expect(r.stderr).not.toMatch(RAW_CONTROL);
  }, 60_000);
});
