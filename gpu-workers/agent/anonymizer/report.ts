/** The hash of an anonymization report as the receipt binds it. */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../shared/encoding/canonicalJson.js';
import { AnonymizationReport } from '../../../shared/schemas/anonymizationReport.js';

/**
 * SHA-256 (hex) of the report's canonical JSON (the project's one canonical form, sorted keys): equal reports hash
 * equal whatever order their keys were built in. The report is validated first.
 */
export function anonymizationReportHash(report: AnonymizationReport): string {
  return createHash('sha256').update(canonicalJson(AnonymizationReport.parse(report))).digest('hex');
}
