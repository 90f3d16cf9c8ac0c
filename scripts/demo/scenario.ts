/**
 * The marketplace story, played with real keys against a fresh embedded stack (see scripts/demo.ts). The
 * end-to-end test runs the same function with less data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, NonceManager, SigningKey, Wallet, type Signer } from 'ethers';
import { LicenseManager__factory, MockUSD__factory } from '../../contracts/typechain/index.js';
import { routes } from '../../shared/http/routes.js';
import type { Job } from '../../shared/schemas/job.js';
import type { Recipe } from '../../shared/schemas/recipe.js';
import { ProvenaClient } from '../../shared/sdk/client.js';
import { buyLicense } from '../../shared/sdk/license.js';
import { uploadDataset } from '../../shared/sdk/upload.js';
import { devAccountKey } from '../../stack/embeddedChain.js';
import { startLocalWorker, type LocalWorker } from '../../gpu-workers/agent/localWorker.js';
import { startFreshStack } from '../../stack/freshStack.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS, type RunningStack } from '../../stack/stack.js';
import { heldOut, reviewsCsv, ticketsJsonl } from './data.js';
import { fetchAndScoreModel, verifyJobReceipt } from './lab.js';

export const DEMO_HELP = `Usage: npm run demo [-- --rows=N] [-- --help]

Plays the whole marketplace on this machine against a fresh embedded stack (its own temporary data folder and
free loopback ports, so a running \`npm start\` is left alone): two data owners list and upload datasets with
personal data, a lab buys a training license and submits a job, a CPU worker attests (development attestor),
anonymizes, trains and streams royalties; it is interrupted once and a second worker resumes from the
checkpoint; the lab decrypts and scores the model and verifies the receipt; recipients claim on chain,
gaslessly, and (a Merkle contributor) with a proof from the API. Ends with a summary and one JSON line of figures; exits 1 if any balance does not reconcile.

  --rows=N   rows per dataset (default 1200; 200..200000)
`;

/** Dev accounts of the story (Hardhat's funded accounts; 1, 2 serve the stack; 20, 21 operate workers). */
const ACCOUNTS = { ownerA: 10, ownerB: 11, recipient1: 12, recipient2: 13, recipient3: 14, lab: 15, contributor1: 16, contributor2: 17 } as const;
/** The tickets' Merkle split: units per recipient (owner-B and two contributors), 6/3/1 of 10. */
const TICKET_UNITS = { ownerB: 6n, contributor1: 3n, contributor2: 1n } as const;

export interface ScenarioOptions {
  rows: number;
  log: (line: string) => void;
  /** Keep the stack's data folder (default: removed). */
  keepData?: boolean;
}

export interface ScenarioResult {
  reconciled: boolean;
  figures: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function units(v: bigint | string, decimals = 6): string {
  const n = BigInt(v);
  const whole = n / 10n ** BigInt(decimals);
  const frac = (n % 10n ** BigInt(decimals)).toString().padStart(decimals, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/** Starts the worker agent as a child process (`npm run worker`'s entry), its log forwarded when PROVENA_DEMO_VERBOSE is set. */
function startWorker(name: string, apiUrl: string, operatorIndex: number, dataDir: string, log: (l: string) => void): LocalWorker {
  const verbose = Boolean(process.env.PROVENA_DEMO_VERBOSE);
  return startLocalWorker({
    apiUrl,
    operatorKey: devAccountKey(operatorIndex),
    devRootDir: dataDir,
    workerId: name,
    env: { PROVENA_WORKER_LEASE_WAIT_SECONDS: '2', PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '10', PROVENA_WORKER_REPORT_MIN_SECONDS: '2' },
    ...(verbose ? { onLog: (line: string) => { if (line.trim()) log(`      [${name}] ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`); } } : {}),
  });
}

/** Plays the story. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { log } = options;
  const t0 = Date.now();
  const step = (n: number, title: string) => log(`\n[${n}] ${title}  (+${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'provena-demo-'));
  const workers: LocalWorker[] = [];
  let stack: RunningStack | undefined;
  try {
    step(1, 'Starting the embedded stack (chain, DynamoDB, S3, IPFS, API) on free loopback ports');
    stack = await startFreshStack(dataDir, { PROVENA_JOB_LEASE_SECONDS: '20' });
    const { info } = stack;
    log(`    API ${info.apiUrl}   chain ${info.rpcUrl} (id ${info.chainId})`);
    const provider = new JsonRpcProvider(info.rpcUrl, info.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const signer = (i: number): Signer => new NonceManager(new Wallet(devAccountKey(i), provider));
    const wallet = (i: number) => new Wallet(devAccountKey(i), provider);
    const clientFor = (i: number) => new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet(i) });
    const addr = (i: number) => wallet(i).address;
    const lmAddress = info.deployment.contracts.LicenseManager as string;
    const tokenAddress = info.deployment.contracts.PaymentToken as string;
    const token = MockUSD__factory.connect(tokenAddress, provider);
    const decimals = Number(await token.decimals());
    const balance = async (a: string) => token.balanceOf(a);

    // ------------------------------------------------------------------------------------------ owners
    step(2, 'Two data owners list, register and upload their datasets (encrypted on their machine)');
    const reviews = reviewsCsv(options.rows, 11);
    const tickets = ticketsJsonl(options.rows, 22);
    const files = { reviews: join(dataDir, 'reviews.csv'), tickets: join(dataDir, 'tickets.jsonl') };
    writeFileSync(files.reviews, reviews.bytes);
    writeFileSync(files.tickets, tickets.bytes);
    const price = { reviews: 20n, tickets: 30n }; // token base units per sample
    const license = (p: bigint) => ({ paymentToken: tokenAddress, pricePerSample: String(p), allowedUses: ['training' as const], expiryOptionsDays: [30, 365] });
    const ownerA = clientFor(ACCOUNTS.ownerA);
    const ownerB = clientFor(ACCOUNTS.ownerB);
    const dsA = await ownerA.createDataset({
      title: 'Customer reviews 2026',
      description: 'Reviews with the customer\'s name, e-mail, phone, age and postcode.',
      tags: ['reviews', 'tabular', 'pii'],
      dataSchema: {
        kind: 'tabular',
        columns: [
          { name: 'customer_name', type: 'string' },
          { name: 'email', type: 'string' },
          { name: 'phone', type: 'string' },
          { name: 'age', type: 'integer' },
          { name: 'postcode', type: 'string' },
          { name: 'text', type: 'string' },
          { name: 'sentiment', type: 'string' },
        ],
      },
      sizeBytes: reviews.bytes.length,
      sampleCount: reviews.rows,
      license: license(price.reviews),
      royaltySplit: [
        { recipient: addr(ACCOUNTS.recipient1), bps: 5000 },
        { recipient: addr(ACCOUNTS.recipient2), bps: 3000 },
        { recipient: addr(ACCOUNTS.recipient3), bps: 2000 },
      ],
      anonymization: {
        identifierColumns: ['email', 'phone'],
        nameColumns: ['customer_name'],
        quasiIdentifiers: { columns: ['age', 'postcode'], k: 5 },
        freeTextColumns: ['text'],
        redactTextPii: true,
      },
    });
    const dsB = await ownerB.createDataset({
      title: 'Support tickets',
      description: 'Free-text support tickets; customers paste e-mails, cards and IBANs into them.',
      tags: ['support', 'text', 'pii'],
      dataSchema: {
        kind: 'tabular',
        columns: [
          { name: 'text', type: 'string' },
          { name: 'sentiment', type: 'string' },
        ],
      },
      sizeBytes: tickets.bytes.length,
      sampleCount: tickets.rows,
      license: license(price.tickets),
      // A Merkle split: the API builds the tree, stores its dump beside the manifest and registers only the root.
      merkleShares: (['ownerB', 'contributor1', 'contributor2'] as const).map((k) => ({ account: addr(ACCOUNTS[k]), units: String(TICKET_UNITS[k]) })),
      anonymization: { identifierColumns: [], freeTextColumns: ['text'], redactTextPii: true },
    });
    for (const [client, d, file] of [
      [ownerA, dsA, files.reviews],
      [ownerB, dsB, files.tickets],
    ] as const) {
      await client.registerDataset(d.id);
      const up = await uploadDataset(client, d.id, file, { stateDir: join(dataDir, 'upload-state'), chunkSize: 64 * 1024 });
      log(`    ${d.id} "${d.title}": ${up.data?.plaintextSize} bytes encrypted and uploaded, manifest ${up.data?.manifestCid}`);
    }
    const registered = await Promise.all([ownerA.getDataset(dsA.id), ownerB.getDataset(dsB.id)]);
    const chainIds = registered.map((d) => BigInt(d.chainDatasetId as string));
    log(`    registry ids ${chainIds.join(', ')}; reviews pay 3 recipients (50/30/20 %), tickets a Merkle split of 3 (6/3/1 units, root ${registered[1]!.merkleSplit?.root.slice(0, 10)}…)`);

    // ---------------------------------------------------------------------------------------------- lab
    step(3, 'The lab quotes, buys a training license for both datasets and submits a job');
    const labSigner = signer(ACCOUNTS.lab);
    const labAddress = addr(ACCOUNTS.lab);
    const public_ = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId });
    const quotes = await Promise.all([dsA.id, dsB.id].map((id) => public_.call(routes.quoteDataset, { params: { id }, query: { samples: String(options.rows) } })));
    for (const q of quotes) log(`    quote ${q.datasetId}: ${q.pricePerSample}/sample, ${q.samples} samples = ${units(q.cost, decimals)} tokens`);
    const budget = 2_000_000n;
    await (await MockUSD__factory.connect(tokenAddress, labSigner).mint(labAddress, budget)).wait();
    const labBefore = await balance(labAddress);
    const managerBefore = await balance(lmAddress);
    const expiry = (await provider.getBlock('latest'))!.timestamp + 30 * 86_400;
    const bought = await buyLicense({
      signer: labSigner,
      licenseManager: lmAddress,
      datasetIds: chainIds,
      maxPricesPerSample: quotes.map((q) => BigInt(q.pricePerSample)),
      budget,
      expiry,
    });
    log(`    license ${bought.licenseId} bought for ${units(budget, decimals)} tokens (tx ${bought.txHash})`);
    const manager = LicenseManager__factory.connect(lmAddress, labSigner);
    const jobBudget = 1_500_000n;
    const openTx = await (await manager.openJob(BigInt(bought.licenseId), jobBudget, 1_000_000n)).wait();
    const opened = openTx!.logs.map((l) => manager.interface.parseLog(l)).find((p) => p?.name === 'JobOpened');
    const jobId = String(opened!.args[0]);
    const labModelKey = SigningKey.computePublicKey(new Wallet(devAccountKey(ACCOUNTS.lab)).signingKey.publicKey, true);
    // Long enough that the interruption below lands mid-job on any machine: at least 1,200 steps and 8 epochs (10
    // epochs at the default 1,200 rows, 40 at --rows=300). The notice goes out at the first committed checkpoint
    // while the trainer runs ahead of its commits (~100 steps/s alone): at a fixed 8 epochs the test's 240 rows made
    // 192 steps, and a loaded run saw worker-1 finish the whole job before the notice. Steps per epoch as the trainer counts them: the training
    // rows of both datasets (after the validation split) in batches, the last one short.
    const batchSize = 16;
    const validationFraction = 0.2;
    const stepsPerEpoch = Math.ceil((2 * options.rows * (1 - validationFraction)) / batchSize);
    const recipe: Recipe = {
      kind: 'text-classifier',
      label: 'sentiment',
      textColumn: 'text',
      vocabSize: 256,
      maxTokens: 32,
      embeddingDim: 16,
      convChannels: 16,
      kernelSize: 3,
      epochs: Math.min(1000, Math.max(8, Math.ceil(1200 / stepsPerEpoch))),
      batchSize,
      lr: 0.01,
      hiddenSizes: [16],
      seed: 7,
      validationFraction,
    };
    const lab = clientFor(ACCOUNTS.lab);
    await lab.call(routes.submitJob, { body: { jobId, recipe, modelKey: labModelKey } });
    log(`    job ${jobId} opened on chain (budget ${units(jobBudget, decimals)}) and accepted by the API: queued`);

    // ---------------------------------------------------------------------------------------------- workers
    step(4, 'A CPU worker attests, anonymizes and trains; royalties stream into the pools');
    workers.push(startWorker('worker-1', info.apiUrl, STACK_WORKER_OPERATOR_ACCOUNTS[0], dataDir, log));
    const getJob = () => public_.call(routes.getJob, { params: { jobId } });
    const recipients = [ACCOUNTS.recipient1, ACCOUNTS.recipient2, ACCOUNTS.recipient3, ACCOUNTS.ownerB, ACCOUNTS.contributor1, ACCOUNTS.contributor2];
    const names = ['recipient-1', 'recipient-2', 'recipient-3', 'owner-B', 'contributor-1', 'contributor-2'];
    const pools = LicenseManager__factory.connect(lmAddress, provider);
    // The reviews' explicit recipients from the pool's view; the tickets' Merkle recipients from the API, which
    // counts their tree units until they prove them (the chain alone says 0 for an unproven leaf).
    const claimableFromApi = async (i: number, chainId: bigint) =>
      BigInt((await public_.call(routes.getRoyalties, { params: { address: addr(i) } })).datasets.find((d) => d.chainDatasetId === String(chainId))?.claimable ?? '0');
    const accrued = async () =>
      Promise.all(recipients.map(async (i, k) => (k < 3 ? pools.claimable(chainIds[0]!, addr(i)) : claimableFromApi(i, chainIds[1]!))));
    let last = '';
    let job: Job = await getJob();
    const watch = async (until: (j: Job) => boolean, timeoutMs: number, pollMs = 700) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        job = await getJob();
        const line = `    ${job.status.padEnd(12)} samples ${job.datasets.map((d) => d.settledSamples).join('/')}  paid ${units(job.spent, decimals)}  rate ${job.currentRatePerSecond}/s  reports ${job.reports.length}  checkpoints ${job.checkpoints.length}  recipients ${(await accrued()).map((a) => units(a, decimals)).join(' | ')}`;
        if (line !== last) log(line);
        last = line;
        if (until(job)) return;
        if (['failed', 'cancelled'].includes(job.status)) throw new Error(`job ${jobId} ${job.status}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`);
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not progress in time (status ${job.status})`);
        await sleep(pollMs);
      }
    };
    // The notice comes at the first committed checkpoint (polled fast: training overlaps its uploads and reports).
    await watch((j) => j.checkpoints.length >= 1, 240_000, 200);

    step(5, 'Spot interruption: worker-1 gets a notice (SIGTERM), checkpoints and releases its lease');
    const code = await workers[0]!.stop();
    log(`    worker-1 exited (${code}); job is ${(await getJob()).status}, ${job.checkpoints.length} checkpoint(s) committed`);
    workers.push(startWorker('worker-2', info.apiUrl, STACK_WORKER_OPERATOR_ACCOUNTS[1], dataDir, log));
    log('    worker-2 leases the job and resumes from the last checkpoint');
    await watch((j) => j.status === 'done', 300_000);
    log(`    done: receipt ${job.receipt?.cid} (tx ${job.receipt?.txHash}), ${job.attempts} leases`);

    // --------------------------------------------------------------------------------------- lab's result
    step(6, 'The lab fetches and decrypts the model, scores it on held-out rows, and verifies the receipt');
    const held = heldOut(400, 99);
    const score = await fetchAndScoreModel({ api: lab, jobId, labKey: devAccountKey(ACCOUNTS.lab), dir: dataDir, heldOut: held });
    log(`    model ${score.sha256.slice(0, 16)}… (${score.bytes} bytes): accuracy ${score.accuracy.toFixed(3)} on ${held.length} held-out rows; majority baseline ${score.baseline.toFixed(3)}`);
    const verdict = await verifyJobReceipt({ api: public_, provider, receiptCid: job.receipt!.cid });
    for (const c of verdict.checks) log(`    ${c.ok ? 'ok  ' : 'FAIL'} receipt ${c.check}: ${c.message}`);

    // ------------------------------------------------------------------------------------------ claims
    step(7, 'Recipients claim: one on chain from its key, one gasless (signs; the API relays), one Merkle contributor with its proof');
    const before = await Promise.all(recipients.map((i) => balance(addr(i))));
    const r1 = LicenseManager__factory.connect(lmAddress, signer(ACCOUNTS.recipient1));
    const onChain = await (await r1.claimOne(chainIds[0]!)).wait();
    log(`    recipient-1 claimed on chain: tx ${onChain!.hash}`);
    const r2 = wallet(ACCOUNTS.recipient2);
    const r2Client = clientFor(ACCOUNTS.recipient2);
    const typed = await r2Client.call(routes.getClaimTypedData, { params: { address: r2.address }, query: { datasets: String(chainIds[0]), to: r2.address } });
    const signature = await r2.signTypedData(typed.domain, typed.types, typed.message);
    const gasless = await r2Client.call(routes.claimRoyalties, {
      params: { address: r2.address },
      body: { datasetIds: typed.message.datasetIds, to: typed.message.to, nonce: typed.message.nonce, deadline: typed.message.deadline, signature },
    });
    log(`    recipient-2 claimed gasless: ${units(gasless.amount, decimals)} tokens, relayed tx ${gasless.txHash}`);
    // contributor-1's first claim proves its leaf: the proof comes from the API (the tree stored beside the manifest).
    const c1 = addr(ACCOUNTS.contributor1);
    const c1Expected = await claimableFromApi(ACCOUNTS.contributor1, chainIds[1]!);
    const share = await public_.call(routes.getSplitShare, { params: { id: dsB.id, address: c1 } });
    const c1Manager = LicenseManager__factory.connect(lmAddress, signer(ACCOUNTS.contributor1));
    const proven = await (await c1Manager.claimWithProofs([{ datasetId: chainIds[1]!, units: BigInt(share.units), proof: share.proof }], [chainIds[1]!])).wait();
    log(`    contributor-1 proved ${share.units}/${share.totalUnits} units (${share.proof.length}-hash proof from the API) and claimed on chain: tx ${proven!.hash}`);
    const after = await Promise.all(recipients.map((i) => balance(addr(i))));

    // ---------------------------------------------------------------------------------------- reconcile
    step(8, 'Reconciling every balance to the wei');
    job = await getJob();
    const chainJob = await pools.getJob(BigInt(jobId));
    const settled = await Promise.all(chainIds.map((d) => pools.settledSamples(BigInt(jobId), d)));
    const prices = [price.reviews, price.tickets];
    const checks: { name: string; ok: boolean; detail: string }[] = [];
    const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
    const paidBySamples = settled.reduce((s, n, i) => s + n * prices[i]!, 0n);
    check('job spent = settled samples x snapshotted price', chainJob.spent === paidBySamples, `${chainJob.spent} = ${paidBySamples}`);
    const reportsPaid = job.reports.reduce((s, r) => s + BigInt(r.paid), 0n);
    check('job spent = sum of relayed reports', chainJob.spent === reportsPaid, `${chainJob.spent} = ${reportsPaid}`);
    const samplesFromApi = job.datasets.map((d) => BigInt(d.settledSamples));
    check('API samples per dataset = chain settledSamples', samplesFromApi.every((s, i) => s === settled[i]), `${samplesFromApi.join('/')} = ${settled.join('/')}`);
    const labAfter = await balance(labAddress);
    check('lab paid exactly the license budget', labBefore - labAfter === budget, `${labBefore - labAfter} = ${budget}`);
    const claimedEvents = [after[0]! - before[0]!, after[1]! - before[1]!];
    const c1Received = after[4]! - before[4]!;
    check('recipient-2 received what the gasless claim reported', claimedEvents[1] === BigInt(gasless.amount), `${claimedEvents[1]} = ${gasless.amount}`);
    check('contributor-1 received what the API counted from its tree units before the proof', c1Received === c1Expected && c1Received > 0n, `${c1Received} = ${c1Expected}`);
    const poolsPaidIn = await Promise.all(chainIds.map(async (d) => (await pools.getPool(d)).paidIn));
    check('pools were paid what the job spent', poolsPaidIn.reduce((a, b) => a + b, 0n) === chainJob.spent, `${poolsPaidIn.join('+')} = ${chainJob.spent}`);
    const claimableNow = await accrued();
    const entitledA = claimableNow.slice(0, 3).reduce((a, b) => a + b, 0n) + claimedEvents[0]! + claimedEvents[1]!;
    const dustA = poolsPaidIn[0]! - entitledA;
    check('reviews pool = claimed + claimable (+ rounding dust < recipients)', dustA >= 0n && dustA < 3n, `${poolsPaidIn[0]} = ${entitledA} + ${dustA}`);
    const entitledB = claimableNow.slice(3).reduce((a, b) => a + b, 0n) + c1Received;
    const dustB = poolsPaidIn[1]! - entitledB;
    check('tickets Merkle pool = claimed + claimable (+ rounding dust < recipients)', dustB >= 0n && dustB < 3n, `${poolsPaidIn[1]} = ${entitledB} + ${dustB}`);
    const managerAfter = await balance(lmAddress);
    const claimedAll = claimedEvents[0]! + claimedEvents[1]! + c1Received;
    check('escrow moved by exactly budget - claims', managerAfter - managerBefore === budget - claimedAll, `${managerAfter - managerBefore} = ${budget} - ${claimedEvents[0]} - ${claimedEvents[1]} - ${c1Received}`);
    check('receipt verifies', verdict.ok, verdict.checks.filter((c) => !c.ok).map((c) => c.check).join(', ') || 'all checks pass');
    check('model beats the majority-class baseline', score.accuracy > score.baseline, `${score.accuracy.toFixed(3)} > ${score.baseline.toFixed(3)}`);
    for (const c of checks) log(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);

    // ------------------------------------------------------------------------------------------ summary
    const anonymization = verdict.receipt?.body.datasets.map((d) => ({ datasetId: d.datasetId, samples: d.samples, rowsSuppressed: d.anonymization.rowsSuppressed, kAchieved: d.anonymization.kAnonymity?.kAchieved ?? null, pii: d.anonymization.piiCounts })) ?? [];
    log('\nSummary');
    log(`  lab ${labAddress} paid ${units(budget, decimals)} (license ${bought.licenseId}); job ${jobId} spent ${units(chainJob.spent, decimals)} on ${settled.join(' + ')} samples`);
    recipients.forEach((i, k) => log(`  ${names[k]} ${addr(i)}: received ${units(after[k]! - before[k]!, decimals)}, claimable ${units(claimableNow[k]!, decimals)}`));
    for (const a of anonymization) log(`  anonymization ${a.datasetId}: ${a.samples} samples trained, ${a.rowsSuppressed} rows suppressed, k achieved ${a.kAchieved ?? 'n/a'}, PII redacted ${JSON.stringify(a.pii)}`);
    log(`  receipt ${job.receipt?.cid}; model accuracy ${score.accuracy.toFixed(3)} vs baseline ${score.baseline.toFixed(3)}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
    const reconciled = checks.every((c) => c.ok);
    log(reconciled ? '\nEverything reconciles to the wei.' : '\nRECONCILIATION FAILED: see the FAIL lines above.');
    return {
      reconciled,
      figures: {
        jobId,
        licenseId: bought.licenseId,
        budget: String(budget),
        spent: String(chainJob.spent),
        samples: Object.fromEntries(registered.map((d, i) => [d.id, String(settled[i])])),
        received: Object.fromEntries(recipients.map((i, k) => [addr(i), String(after[k]! - before[k]!)])),
        claimable: Object.fromEntries(recipients.map((i, k) => [addr(i), String(claimableNow[k])])),
        receiptCid: job.receipt?.cid,
        attempts: job.attempts,
        accuracy: Number(score.accuracy.toFixed(4)),
        baseline: Number(score.baseline.toFixed(4)),
        epsilon: verdict.receipt?.body.dp?.epsilon ?? null,
        seconds: Math.round((Date.now() - t0) / 1000),
        reconciled,
        checks: Object.fromEntries(checks.map((c) => [c.name, c.ok])),
      },
    };
  } finally {
    for (const w of workers) w.kill();
    await stack?.stop();
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

