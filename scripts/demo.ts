/**
 * `npm run demo`: the whole marketplace on this machine, with real keys on the local chain, step by step.
 *
 * Two owners list and upload a dataset each (customer reviews as CSV with personal-data columns; support tickets
 * as JSON lines with PII in free text; the reviews pay three recipients, the tickets a Merkle split of three); a lab quotes and buys a license for both
 * and submits a job; a CPU worker attests with the development attestor, trains, and streams royalties while it
 * trains; it is interrupted once mid-job and a second worker resumes from the checkpoint; the lab fetches and
 * decrypts the model, scores it on held-out rows, and verifies the receipt; three recipients claim, one on chain,
 * one gasless, and one Merkle contributor on chain with its proof from the API. It ends with a summary and one JSON line of the figures, and exits 1 when any balance does not
 * reconcile to the wei.
 *
 * The scenario lives in `scripts/demo/scenario.ts` (the end-to-end test runs it with less data).
 */
import { runScenario, DEMO_HELP } from './demo/scenario.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(DEMO_HELP);
  process.exit(0);
}

const rowsArg = process.argv.find((a) => a.startsWith('--rows='));
const rows = rowsArg ? Number(rowsArg.slice('--rows='.length)) : 1200;
if (!Number.isInteger(rows) || rows < 200 || rows > 200_000) {
  process.stderr.write('--rows=N: N must be an integer between 200 and 200000\n');
  process.exit(2);
}

try {
  const result = await runScenario({ rows, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result.figures)}\n`);
  process.exit(result.reconciled ? 0 : 1);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
