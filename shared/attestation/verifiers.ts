/**
 * The built-in evidence verifiers, by kind.
 */
import { nitroVerifier } from './nitro.js';
import { nvidiaVerifier } from './nvidia.js';
import { snpVerifier } from './snp.js';
import { tdxVerifier } from './tdx.js';
import type { EvidenceKind, EvidenceVerifier } from './types.js';

/**
 * Verifiers for every kind implemented here. `dev` evidence is a Nitro document under a development root, so it
 * shares the Nitro verifier; which roots it may end at comes from the policy (`extraRoots.dev`).
 */
export const BUILTIN_VERIFIERS: Partial<Record<EvidenceKind, EvidenceVerifier>> = {
  nitro: nitroVerifier,
  dev: nitroVerifier,
  'sev-snp': snpVerifier,
  tdx: tdxVerifier,
  'nvidia-gpu': nvidiaVerifier,
};
