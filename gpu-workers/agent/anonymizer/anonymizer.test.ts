import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Faker } from '@faker-js/faker';
import { hasCode } from '../../../shared/errors.js';
import { AnonymizationReport } from '../../../shared/schemas/anonymizationReport.js';
import type { AnonymizationPolicy } from '../../../shared/schemas/dataset.js';
import { anonymizeTable, createAnonymizer } from './anonymizer.js';
import { seededFaker, validPhone } from '../../../test/support/anonymizerFixtures.js';
import type { Cell, Row } from './hierarchies.js';
import { planGeneralization } from './plan.js';
import { anonymizationReportHash } from './report.js';

const POLICY = {
  identifierColumns: ['patient_id', 'email'],
  nameColumns: ['full_name'],
  joinKeyColumns: ['customer_id'],
  quasiIdentifiers: { columns: ['age', 'zip', 'birth_date'], k: 5, hierarchies: { zip: { kind: 'prefix' } } },
  freeTextColumns: ['notes'],
  redactTextPii: true,
} satisfies Partial<AnonymizationPolicy>;

interface Table {
  rows: Row[];
  canaries: string[];
}

/** A synthetic clinic table; every 25th row carries canaries (unique strings) in its identifiers, name and e-mail. */
function clinicTable(f: Faker, n: number): Table {
  const canaries: string[] = [];
  const rows = Array.from({ length: n }, (_, i): Row => {
    const canary = i % 25 === 0;
    const first = canary ? `Qzvcanary${i}` : f.person.firstName();
    const last = canary ? `Wxkcanary${i}` : f.person.lastName();
    const email = canary ? `qzv.canary${i}@example.org` : f.internet.email({ firstName: first, lastName: last });
    const pid = canary ? `PID-CANARY-${i}` : `PID-${f.string.alphanumeric(8)}`;
    const customer = canary ? `CUST-CANARY-${i}` : `CUST-${f.string.numeric(6)}`;
    if (canary) canaries.push(first, last, email, pid, customer);
    const phone = validPhone(f);
    const notes = f.helpers.arrayElement([
      `${first} ${last} (${email}) called from ${phone} about ${f.lorem.words(3)}.`,
      `Patient ${pid} asked to bill ${customer}; contact ${email}.`,
      `Seen ${last.toUpperCase()}, DOB: ${f.date.birthdate().toISOString().slice(0, 10)}. ${f.lorem.sentence()}`,
      `Dr. notes for ${first}: ${f.lorem.sentence()} Follow-up order #${f.string.numeric(12)}.`,
    ]);
    return {
      patient_id: pid,
      email,
      full_name: `${first} ${last}`,
      customer_id: customer,
      age: f.number.int({ min: 18, max: 90 }),
      zip: f.helpers.arrayElement(['02139', '02138', '02141', '02142', '10001', '10002', '10003', '94110', '94114']),
      birth_date: f.date.birthdate().toISOString().slice(0, 10),
      diagnosis: f.helpers.arrayElement(['A', 'B', 'C']),
      notes,
    };
  });
  return { rows, canaries };
}

function qiClassSizes(rows: readonly Record<string, Cell>[], columns: readonly string[]): number[] {
  const sizes = new Map<string, number>();
  for (const r of rows) {
    const key = JSON.stringify(columns.map((c) => r[c] ?? null));
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  return [...sizes.values()];
}

describe('anonymizer, whole table', () => {
  const { rows, canaries } = clinicTable(seededFaker(11), 1500);
  const key = randomBytes(32);
  const { rows: out, report } = anonymizeTable(rows, POLICY, key);

  it('lets no canary survive anywhere in the output rows (serialized, case-insensitive)', () => {
    const serialized = JSON.stringify(out).toLowerCase();
    expect(canaries.filter((c) => serialized.includes(c.toLowerCase()))).toEqual([]);
    expect(serialized).not.toContain('canary');
  });

  it('drops identifier and name columns, pseudonymizes join keys, and keeps the other columns', () => {
    expect(Object.keys(out[0]!).sort()).toEqual(['age', 'birth_date', 'customer_id', 'diagnosis', 'notes', 'zip']);
    expect(out.every((r) => /^[0-9a-f]{64}$/.test(String(r.customer_id)))).toBe(true);
  });

  it('makes every equivalence class of the quasi-identifiers hold at least k rows, suppressing at most 5%', () => {
    const sizes = qiClassSizes(out, POLICY.quasiIdentifiers.columns);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(5);
    expect(report.rowsSuppressed).toBeLessThanOrEqual(0.05 * rows.length);
    expect(report.kAnonymity?.kAchieved).toBe(Math.min(...sizes));
  });

  it('reports counts that agree with the output, and a report the schema accepts', () => {
    expect(AnonymizationReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({ rowsIn: 1500, rowsOut: out.length, columns: { dropped: ['email', 'full_name', 'patient_id'], pseudonymized: ['customer_id'], scannedForPii: ['notes'] } });
    const tags = JSON.stringify(out).match(/\[(EMAIL|PHONE|NAME|DOB|IDENTIFIER)\]/g) ?? [];
    const counted = report.piiCounts.email + report.piiCounts.phone + report.piiCounts.name + report.piiCounts.dob + report.piiCounts.identifier;
    expect(counted).toBe(tags.length);
    expect([report.piiCounts.email, report.piiCounts.phone, report.piiCounts.name, report.piiCounts.dob, report.piiCounts.identifier].every((n) => n > 0)).toBe(true);
  });

  it('keeps look-alikes in free text: order numbers that are not PII stay', () => {
    const orders = rows.flatMap((r) => /order #(\d{12})/.exec(String(r.notes))?.[1] ?? []);
    const serialized = JSON.stringify(out);
    expect(orders.filter((o) => serialized.includes(o)).length / orders.length).toBeGreaterThanOrEqual(0.95);
  });

  it('never puts the job key in the rows, the report or the anonymizer object', () => {
    const hex = key.toString('hex');
    const anonymizer = createAnonymizer(planGeneralization(rows.slice(0, 100), POLICY), key);
    const everything = JSON.stringify(out) + JSON.stringify(report) + inspect(anonymizer, { depth: 10, showHidden: true }) + JSON.stringify(anonymizer);
    expect(everything).not.toContain(hex);
    expect(everything).not.toContain(key.toString('base64'));
  });

  it('gives the same pseudonyms in two runs under one key and different ones under another (unlinkable across jobs)', () => {
    const again = anonymizeTable(rows, POLICY, key).rows;
    const other = anonymizeTable(rows, POLICY, randomBytes(32)).rows;
    expect(again.map((r) => r.customer_id)).toEqual(out.map((r) => r.customer_id));
    const mine = new Set(out.map((r) => r.customer_id));
    expect(other.some((r) => mine.has(r.customer_id))).toBe(false);
  });

  it('hashes the report over its canonical JSON: key order does not matter, content does', () => {
    const reordered = Object.fromEntries(Object.entries(report).reverse()) as AnonymizationReport;
    expect(anonymizationReportHash(reordered)).toBe(anonymizationReportHash(report));
    expect(anonymizationReportHash({ ...report, rowsOut: report.rowsOut + 1 })).not.toBe(anonymizationReportHash(report));
  });
});

describe('anonymizer, streaming', () => {
  const { rows } = clinicTable(seededFaker(12), 1200);
  const key = randomBytes(32);

  it('gives the same rows batch by batch as in one call when the plan saw every row', () => {
    const anonymizer = createAnonymizer(planGeneralization(rows, POLICY), key);
    const batched = [0, 1, 2, 3, 4, 5].flatMap((b) => anonymizer.applyPlan(rows.slice(b * 200, b * 200 + 200)));
    expect(batched).toEqual(anonymizeTable(rows, POLICY, key).rows);
    expect(anonymizer.report().rowsIn).toBe(1200);
  });

  it('stays k-anonymous over all rows when the plan was computed on a subset of them (more rows suppressed)', () => {
    const anonymizer = createAnonymizer(planGeneralization(rows.slice(0, 600), POLICY), key);
    const out = [0, 1, 2, 3].flatMap((b) => anonymizer.applyPlan(rows.slice(b * 300, b * 300 + 300)));
    expect(Math.min(...qiClassSizes(out, POLICY.quasiIdentifiers.columns))).toBeGreaterThanOrEqual(5);
    expect(anonymizer.report()).toMatchObject({ rowsIn: 1200, rowsOut: out.length, planRows: 600 });
  });

  it('redacts a name first seen in a later batch than the plan saw', () => {
    const plan = planGeneralization(rows.slice(0, 100), { ...POLICY, quasiIdentifiers: undefined });
    const anonymizer = createAnonymizer(plan, key);
    const [row] = anonymizer.applyPlan([{ full_name: 'Zebulon Quartermaine', notes: 'zebulon called back' }]);
    expect(row).toEqual({ notes: '[NAME] called back' });
  });
});

describe('anonymizer, refusals', () => {
  const rows = clinicTable(seededFaker(13), 50).rows;

  it('refuses to plan over more rows than its bound, with ANONYMIZATION_TOO_MANY_ROWS', () => {
    let caught: unknown;
    try {
      planGeneralization(rows, POLICY, { maxPlanRows: 49 });
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ANONYMIZATION_TOO_MANY_ROWS')).toBe(true);
  });

  it('refuses a policy that does not parse, with VALIDATION_FAILED', () => {
    let caught: unknown;
    try {
      planGeneralization(rows, { ...POLICY, quasiIdentifiers: { columns: ['age'], k: 1 } });
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'VALIDATION_FAILED')).toBe(true);
  });

  it('refuses with ANONYMIZATION_INFEASIBLE when k exceeds the rows and suppression is capped', () => {
    let caught: unknown;
    try {
      planGeneralization(rows.slice(0, 4), POLICY);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ANONYMIZATION_INFEASIBLE')).toBe(true);
  });

  it('refuses a job key that is not 32 bytes, and a disposed anonymizer treats no further batch', () => {
    const plan = planGeneralization(rows, POLICY);
    expect(() => createAnonymizer(plan, new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'ANONYMIZATION_KEY_INVALID' }));
    const anonymizer = createAnonymizer(plan, randomBytes(32));
    anonymizer.dispose();
    expect(() => anonymizer.applyPlan(rows)).toThrow(expect.objectContaining({ code: 'ANONYMIZATION_KEY_INVALID' }));
  });
});
