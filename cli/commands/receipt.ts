/**
 * `provena receipt verify CID`: fetches a job's receipt through the API and checks it without trusting the API:
 * the CID of the bytes, the worker's signature, the chain's anchoring, the attestation registry's approval and
 * evidence, the listing's manifests. Prints one line per check; exits non-zero when any failed.
 */
import { Command, Option } from 'commander';
import { JsonRpcProvider } from 'ethers';
import { ProvenaError, type ErrorCode } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import { CidString } from '../../shared/schemas/common.js';
import type { ReceiptCheck } from '../../shared/schemas/receipt.js';
import { publishedManifestsFromApi, receiptChainReader, verifyReceipt, type VerifyReceiptReturnType } from '../../shared/sdk/receipt.js';
import { client, print } from '../context.js';

/** One line per check: `ok`, `FAIL CODE` or `skip`, the check and what it found. */
export function renderReceiptChecks(v: Pick<VerifyReceiptReturnType, 'cid' | 'ok' | 'checks'>): string {
  const mark = (c: ReceiptCheck) => (c.ok ? 'ok  ' : c.skipped ? 'skip' : 'FAIL');
  const width = Math.max(...v.checks.map((c) => c.check.length));
  return [
    `receipt ${v.cid}`,
    ...v.checks.map((c) => `  ${mark(c)}  ${c.check.padEnd(width)}  ${c.code && !c.ok ? `${c.code}: ` : ''}${c.message}`),
    v.ok ? 'verified: every check passed' : 'NOT verified',
  ].join('\n');
}

/** Adds `provena receipt verify` to `program`. */
export function registerReceiptCommands(program: Command): void {
  const receipt = program.command('receipt').description("check a training job's receipt (signed by the attested worker, anchored on chain)");
  receipt
    .command('verify <cid>')
    .description('fetch the receipt and check its CID, signature, on-chain anchoring, worker approval and evidence, and manifests')
    .addOption(new Option('--rpc-url <url>', 'JSON-RPC endpoint of the chain (the chain is read directly, not through the API)').env('PROVENA_CHAIN_RPC_URL').default('http://127.0.0.1:8545'))
    .action(async (cid: string, o: { rpcUrl: string }, cmd: Command) => {
      const parsed = CidString.safeParse(cid);
      if (!parsed.success) throw new ProvenaError('VALIDATION_FAILED', `${cid} is not a CID`);
      const ctx = await client(cmd);
      const health = await ctx.api.health();
      const { LicenseManager: licenseManager, AttestationRegistry: attestationRegistry } = health.contracts;
      if (!licenseManager || !attestationRegistry) throw new ProvenaError('CONFIG_INVALID', 'The API names no LicenseManager or AttestationRegistry contract');
      const stored = await ctx.api.call(routes.getReceipt, { params: { cid: parsed.data } });
      const provider = new JsonRpcProvider(o.rpcUrl, health.chainId, { staticNetwork: true });
      try {
        const v = await verifyReceipt({
          cid: parsed.data,
          bytes: Buffer.from(stored.base64, 'base64'),
          chain: receiptChainReader(provider, health.chainId, { licenseManager, attestationRegistry }),
          publishedManifests: publishedManifestsFromApi(ctx.api),
        });
        print(ctx.opts, { cid: v.cid, ok: v.ok, code: v.code, checks: v.checks, receipt: v.receipt }, () => renderReceiptChecks(v));
        if (!v.ok) throw new ProvenaError((v.code ?? 'RECEIPT_MALFORMED') as ErrorCode, `receipt ${v.cid} failed ${v.checks.filter((c) => !c.ok && !c.skipped).map((c) => c.check).join(', ')}`);
      } finally {
        provider.destroy();
      }
    });
}
