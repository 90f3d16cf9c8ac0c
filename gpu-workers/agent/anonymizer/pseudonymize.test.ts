import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { hasCode } from '../../../shared/errors.js';
import { createPseudonymizer } from './pseudonymize.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const value = fc.oneof(fc.string(), fc.integer());

describe('join-key pseudonyms', () => {
  it('are deterministic under one key', () => {
    fc.assert(fc.property(key, value, (k, v) => createPseudonymizer(k).pseudonymize(v) === createPseudonymizer(Uint8Array.from(k)).pseudonymize(v)));
  });

  it('differ across keys for the same value (unlinkable across jobs)', () => {
    fc.assert(
      fc.property(key, key, value, (k1, k2, v) => {
        fc.pre(Buffer.compare(Buffer.from(k1), Buffer.from(k2)) !== 0);
        return createPseudonymizer(k1).pseudonymize(v) !== createPseudonymizer(k2).pseudonymize(v);
      }),
    );
  });

  it('differ across values under one key, are 64 hex digits, and never contain the value', () => {
    fc.assert(
      fc.property(key, fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (k, a, b) => {
        fc.pre(a !== b);
        const { pseudonymize } = createPseudonymizer(k);
        const [pa, pb] = [pseudonymize(a), pseudonymize(b)];
        return pa !== pb && /^[0-9a-f]{64}$/.test(pa ?? '') && (a.length < 4 || !(pa ?? '').includes(a));
      }),
    );
  });

  it('join a number and its string form (a key read from JSON in one table and from CSV in another)', () => {
    const { pseudonymize } = createPseudonymizer(new Uint8Array(32).fill(7));
    expect(pseudonymize(42)).toBe(pseudonymize('42'));
  });

  it('keep null as null', () => {
    expect(createPseudonymizer(new Uint8Array(32)).pseudonymize(null)).toBeNull();
  });

  it('refuse a key that is not 32 bytes, without echoing it', () => {
    const short = new Uint8Array(16).fill(0xab);
    let caught: unknown;
    try {
      createPseudonymizer(short);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ANONYMIZATION_KEY_INVALID')).toBe(true);
    expect(JSON.stringify((caught as Error).message)).not.toContain('abab');
  });

  it('do not expose the key through the returned object, and stop working once disposed', () => {
    const k = new Uint8Array(32).fill(0x5c);
    const p = createPseudonymizer(k);
    k.fill(0); // the caller zeroes its copy: the pseudonymizer kept its own
    const before = p.pseudonymize('x');
    expect(before).toBe(createPseudonymizer(new Uint8Array(32).fill(0x5c)).pseudonymize('x'));
    expect(inspect(p, { depth: 5, showHidden: true }) + JSON.stringify(p)).not.toMatch(/5c5c|92, 92/);
    p.dispose();
    let code: unknown;
    try {
      p.pseudonymize('x');
    } catch (err) {
      code = (err as { code?: unknown }).code;
    }
    expect(code).toBe('ANONYMIZATION_KEY_INVALID');
  });
});
