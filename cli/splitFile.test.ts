import { describe, expect, it } from '@jest/globals';
import { ProvenaError } from '../shared/errors.js';
import { parseSplitFile } from './splitFile.js';

const A = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

function issues(name: string, text: string): unknown {
  try {
    parseSplitFile(name, text);
  } catch (err) {
    if (err instanceof ProvenaError) return { code: err.code, details: err.details };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('split files', () => {
  it('reads a CSV with a header, comments and blank lines, checksumming accounts', () => {
    const shares = parseSplitFile('shares.csv', `\uFEFFaccount,units\n# contributors\n${A},3\n\n${B}, 1\n`);
    expect(shares).toEqual([{ account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', units: '3' }, { account: B, units: '1' }]);
  });

  it('reads a JSON array or an object with merkleShares', () => {
    const list = [{ account: A, units: '2' }];
    expect(parseSplitFile('s.json', JSON.stringify(list))).toHaveLength(1);
    expect(parseSplitFile('s.JSON', JSON.stringify({ merkleShares: list }))[0]?.units).toBe('2');
  });

  it('names the file line of a bad CSV row and of a duplicate account', () => {
    expect(issues('s.csv', `account,units\n${A},0\n`)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: ['s.csv', 'line 2', 'units'] }] });
    expect(issues('s.csv', `${A},1\n# x\n${A},2\n`)).toMatchObject({ details: [{ path: ['s.csv', 'line 3', 'account'], message: 'duplicate account' }] });
  });

  it('refuses JSON that does not parse, and an empty file', () => {
    expect(issues('s.json', '{')).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(issues('s.csv', 'account,units\n')).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
