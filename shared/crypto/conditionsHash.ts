import { createHash } from 'node:crypto';
import { canonicalJson } from '../encoding/canonicalJson.js';
import type { AccessConditionList } from '../schemas/accessConditions.js';

/**
 * SHA-256 (hex) of the canonical JSON (shared/encoding/canonicalJson.ts) of a condition list. The gates bind it
 * into the wrapped key, so a wrapped key cannot be released under weaker conditions than it was wrapped with.
 */
export function hashConditions(conditions: AccessConditionList): string {
  return createHash('sha256').update(canonicalJson(conditions)).digest('hex');
}
