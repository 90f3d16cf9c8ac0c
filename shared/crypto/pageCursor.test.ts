import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hasCode } from '../errors.js';
import { openCursor, sealCursor } from './pageCursor.js';

const key = randomBytes(32);
const scope = JSON.stringify(['byOwner', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'active']);
const inner = Buffer.from(JSON.stringify({ i: 'byOwner', k: { id: { S: 'ds_0123' } } })).toString('base64url');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return hasCode(err, 'CURSOR_INVALID') ? err.code : String(err);
  }
  return undefined;
}

describe('sealed pagination cursors', () => {
  it('opens a cursor it sealed for the same query to the adapter cursor inside', () => {
    expect(openCursor(key, scope, sealCursor(key, scope, inner))).toBe(inner);
  });

  it('refuses the cursor with any one character changed', () => {
    const sealed = sealCursor(key, scope, inner);
    for (let i = 0; i < sealed.length; i++) {
      const c = sealed[i] === 'A' ? 'B' : 'A';
      const flipped = `${sealed.slice(0, i)}${c}${sealed.slice(i + 1)}`;
      expect([i, codeOf(() => openCursor(key, scope, flipped))]).toEqual([i, 'CURSOR_INVALID']);
    }
  });

  it('refuses a cursor sealed for another query or under another key', () => {
    const otherScope = JSON.stringify(['byStatus', '', 'active']);
    expect(codeOf(() => openCursor(key, otherScope, sealCursor(key, scope, inner)))).toBe('CURSOR_INVALID');
    expect(codeOf(() => openCursor(key, scope, sealCursor(randomBytes(32), scope, inner)))).toBe('CURSOR_INVALID');
  });

  it('refuses an unsealed adapter cursor, an empty string and garbage', () => {
    for (const c of [inner, '', 'c1..', 'c1.x.y.z', '....']) expect(codeOf(() => openCursor(key, scope, c))).toBe('CURSOR_INVALID');
  });
});
