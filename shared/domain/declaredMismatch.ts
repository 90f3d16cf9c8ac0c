import type { MeasuredData } from '../schemas/encryptedManifest.js';

/** The owner's declared values a listing shows beside its measured data. */
export interface DeclaredFacts {
  sizeBytes: number;
  sampleCount?: number | undefined;
}

/** Declared values that disagree with what was measured, each as declared. */
export interface DeclaredMismatch {
  sizeBytes?: number;
  sampleCount?: number;
}

/**
 * The declared values that disagree with the measured ones (issue 8, item 7), or undefined when all agree. A
 * `sampleCount` left undeclared is no mismatch.
 *
 * @example
 * ```ts
 * declaredMismatch({ sizeBytes: 1_250_000_000, sampleCount: 420_000 }, { bytes: 1_700_000, rows: 20_000 });
 * // -> { sizeBytes: 1250000000, sampleCount: 420000 }
 * ```
 */
export function declaredMismatch(declared: DeclaredFacts, measured: MeasuredData): DeclaredMismatch | undefined {
  const out: DeclaredMismatch = {
    ...(declared.sizeBytes !== measured.bytes ? { sizeBytes: declared.sizeBytes } : {}),
    ...(declared.sampleCount !== undefined && declared.sampleCount !== measured.rows ? { sampleCount: declared.sampleCount } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}
