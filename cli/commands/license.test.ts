import { describe, expect, it } from '@jest/globals';
import { ProvenaError } from '../../shared/errors.js';
import { parseDuration, parseId } from './license.js';

describe('provena license buy --expires-in', () => {
  it('reads seconds, minutes, hours, days and weeks', () => {
    expect(['3600s', '30m', '12h', '90d', '2w'].map(parseDuration)).toEqual([3600, 1800, 43_200, 7_776_000, 1_209_600]);
  });

  it('refuses a duration without a unit, with an unknown unit or zero', () => {
    for (const bad of ['90', '9y', '0d', '-1d', 'd']) {
      const err = (() => {
        try {
          parseDuration(bad);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect([bad, err instanceof ProvenaError ? err.code : err]).toEqual([bad, 'VALIDATION_FAILED']);
    }
  });
});

describe('provena license reclaim ID', () => {
  it('reads a positive decimal id and refuses anything else with VALIDATION_FAILED', () => {
    expect(parseId(' 42 ', 'license')).toBe(42n);
    for (const bad of ['0', '-1', '1.5', '0x10', 'abc', '']) {
      let code: unknown;
      try {
        parseId(bad, 'license');
      } catch (e) {
        code = e instanceof ProvenaError ? e.code : e;
      }
      expect([bad, code]).toEqual([bad, 'VALIDATION_FAILED']);
    }
  });
});
