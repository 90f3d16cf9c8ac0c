/**
 * Tamper-evident pagination cursors. A storage adapter's cursor (for DynamoDB, the key to resume after) is
 * opaque to callers but not secret; sent back altered, it made the query fail inside DynamoDB (a 502 and an
 * ERROR log) or resumed a listing somewhere it was never handed out. A sealed cursor carries an HMAC-SHA256,
 * under a server key, over the adapter's cursor and the query it belongs to; anything else is refused with
 * `CURSOR_INVALID` (400) before it reaches storage.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ProvenaError } from '../errors.js';

const PREFIX = 'c1';
const DOMAIN = 'provena/page-cursor/v1';

function mac(key: Uint8Array, scope: string, body: string): string {
  return createHmac('sha256', key).update(`${DOMAIN}\n${scope}\n${body}`).digest('base64url');
}

function invalid(why: string): ProvenaError {
  return new ProvenaError('CURSOR_INVALID', `Invalid pagination cursor: ${why}; start again without a cursor`, { details: [{ path: ['query', 'cursor'], message: why }] });
}

/**
 * Seals `inner` (an adapter's cursor) for the query described by `scope`.
 *
 * @example
 * ```ts
 * const next = sealCursor(key, JSON.stringify([owner, status]), page.nextCursor);
 * ```
 */
export function sealCursor(key: Uint8Array, scope: string, inner: string): string {
  const body = Buffer.from(inner, 'utf8').toString('base64url');
  return `${PREFIX}.${body}.${mac(key, scope, body)}`;
}

/**
 * The adapter's cursor inside `cursor`, if this key sealed it for this `scope`; throws `CURSOR_INVALID`
 * otherwise (a changed character anywhere, a cursor of another query, or one sealed under another key).
 */
export function openCursor(key: Uint8Array, scope: string, cursor: string): string {
  const parts = cursor.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw invalid('not a cursor this API issued');
  const [, body, tag] = parts as [string, string, string];
  // Compared as text: a changed character anywhere, even in the unused bits of base64's last digit, fails.
  const expected = Buffer.from(mac(key, scope, body), 'utf8');
  const given = Buffer.from(tag, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('altered, or issued for another query');
  return Buffer.from(body, 'base64url').toString('utf8');
}
