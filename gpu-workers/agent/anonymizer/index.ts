/** The worker's anonymizer: package entry point (see README.md). */
export { anonymizeTable, createAnonymizer, type Anonymizer } from './anonymizer.js';
export { type Cell, type Row, type ResolvedHierarchy, generalize, levelLabel, maxLevel } from './hierarchies.js';
export { classKey, searchLattice, type LatticeChoice } from './lattice.js';
export { DEFAULT_MAX_PLAN_ROWS, DEFAULT_MAX_SUPPRESSION_FRACTION, planGeneralization, type AnonymizationPlan, type PlanOptions } from './plan.js';
export { JOB_KEY_BYTES, createPseudonymizer, type Pseudonymizer } from './pseudonymize.js';
export { DEFAULT_PHONE_REGIONS, findPii, nameTokens, redactText, tagOf, type PiiSpan, type RedactorOptions } from './redact.js';
export { anonymizationReportHash } from './report.js';
export { cardValid, ethAddressValid, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from './validators.js';
