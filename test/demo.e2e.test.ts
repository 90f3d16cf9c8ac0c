/**
 * The marketplace end to end: the `npm run demo` scenario with less data, on its own fresh embedded stack (real
 * chain, DynamoDB, S3, IPFS, worker processes with the development attestor, the PyTorch trainer on CPU).
 */
import { runScenario, type ScenarioResult } from '../scripts/demo/scenario.js';

describe('the whole marketplace (npm run demo, small)', () => {
  let result: ScenarioResult;
  const lines: string[] = [];

  beforeAll(async () => {
    result = await runScenario({ rows: 240, log: (l) => lines.push(l) });
  }, 600_000);

  afterAll(() => {
    // The story's log helps when something below fails.
    if (!result?.reconciled) process.stderr.write(`${lines.join('\n')}\n`);
  });

  it('reconciles every balance to the wei (job spent = samples x price = reports; escrow; claims)', () => {
    const checks = result.figures.checks as Record<string, boolean>;
    expect(Object.entries(checks).filter(([, ok]) => !ok)).toEqual([]);
    expect(result.reconciled).toBe(true);
    expect(BigInt(result.figures.spent as string)).toBeGreaterThan(0n);
  });

  it('was interrupted once and resumed by a second worker', () => {
    expect(result.figures.attempts).toBeGreaterThanOrEqual(2);
  });

  it("delivers a receipt that verifies, and a model that loads and beats the majority-class baseline", () => {
    expect((result.figures.checks as Record<string, boolean>)['receipt verifies']).toBe(true);
    expect(result.figures.receiptCid).toMatch(/^baf/);
    expect(result.figures.accuracy as number).toBeGreaterThan(result.figures.baseline as number);
  });
});
