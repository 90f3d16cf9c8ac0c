/**
 * The built-in evidence verifiers, by kind. TDX and NVIDIA verifiers join this table when they land.
 */
import { nitroVerifier } from './nitro.js';
import { snpVerifier } from './snp.js';
import type { EvidenceKind, EvidenceVerifier } from './types.js';

/**
 * Verifiers for every kind implemented here. `dev` evidence is a Nitro document under a development root, so it
 * shares the Nitro verifier; which roots it may end at comes from the policy (`extraRoots.dev`).
 */
export const BUILTIN_VERIFIERS: Partial<Record<EvidenceKind, EvidenceVerifier>> = {
  nitro: nitroVerifier,
  dev: nitroVerifier,
  'sev-snp': snpVerifier,
};
