/**
 * npm run bench:indexer — events per second the chain indexer ingests (shared/use-cases/indexChain.ts with its
 * production adapters: EvmChainEventSource over JSON-RPC, the DynamoDB license projection on dynalite), against
 * a bare `eth_getLogs` loop over the same blocks with the same batch size, in the same run.
 *
 * Starts the embedded stack in-process (loopback ports, temporary data dir, the stack's own indexer loop slowed
 * to one tick a minute so it does not compete), then writes BENCH_INDEXER_LICENSES (default 100) purchases, each
 * followed by one job (a LicensePurchased and a JobOpened event each), from one lab key. The timed run indexes
 * every block from the deployment to the head under a fresh cursor; the bare loop fetches the same logs
 * (address and topics as the indexer asks) and decodes them. Writes bench/results/indexer.json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Wallet, toQuantity } from 'ethers';
import { DatasetRegistry__factory, LicenseManager__factory, MockUSD__factory } from '../contracts/typechain/index.js';
import { createIndexerFromEnv } from '../functions/_lib/indexer.js';
import { indexChain } from '../shared/use-cases/indexChain.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { startFreshStack } from '../stack/freshStack.js';
import { machineNow } from './lib/figures.js';
import { runMain } from './lib/main.js';

const LICENSES = Number(process.env.BENCH_INDEXER_LICENSES ?? 100);
const here = dirname(fileURLToPath(import.meta.url));
const LM = LicenseManager__factory.createInterface();
const TOPICS = [[LM.getEvent('LicensePurchased').topicHash, LM.getEvent('JobOpened').topicHash]];

async function main(): Promise<void> {
  const machine = machineNow();
  const dataDir = await mkdtemp(join(tmpdir(), 'provena-bench-indexer-'));
  const stack = await startFreshStack(join(dataDir, 'data'), { PROVENA_INDEXER_INTERVAL_MS: '60000' });
  const provider = new JsonRpcProvider(stack.info.rpcUrl, stack.info.chainId, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const c = stack.info.deployment.contracts;
    const owner = new Wallet(devAccountKey(17), provider);
    const lab = new Wallet(devAccountKey(16), provider);
    // Untimed: a dataset, the lab's funds, then one purchase and one job per license.
    const registry = DatasetRegistry__factory.connect(c.DatasetRegistry!, owner);
    const rc = await (await registry.register({ manifestCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', pricePerSample: 10n, split: { recipients: [owner.address], bps: [10_000], merkleRoot: `0x${'00'.repeat(32)}`, totalUnits: 0n } })).wait();
    const datasetId = registry.interface.parseLog(rc!.logs.find((l) => l.address.toLowerCase() === c.DatasetRegistry!.toLowerCase())!)!.args[0] as bigint;
    const token = MockUSD__factory.connect(c.PaymentToken!, lab);
    await (await token.mint(lab.address, 10n ** 18n)).wait();
    await (await token.approve(c.LicenseManager!, 2n ** 255n)).wait();
    const manager = LicenseManager__factory.connect(c.LicenseManager!, lab);
    const expiry = (await provider.getBlock('latest'))!.timestamp + 30 * 86_400;
    const t0 = performance.now();
    for (let i = 0; i < LICENSES; i++) {
      const prc = await (await manager.purchase([datasetId], [10n], 10n ** 9n, expiry)).wait();
      const licenseId = LM.parseLog(prc!.logs.find((l) => l.topics[0] === TOPICS[0]![0])!)!.args[0] as bigint;
      await (await manager.openJob(licenseId, 10n ** 6n, 10n ** 6n)).wait();
    }
    const setupSeconds = (performance.now() - t0) / 1000;

    const indexer = createIndexerFromEnv(process.env);
    // Where a tick's time goes (wall ms, summed over the timed ticks): each dependency call the tick makes, timed
    // around it (the tick awaits them one after another; `events` includes the terms and block reads it makes).
    const spent: Record<string, number> = {};
    let timing = false;
    // One depth for all: a call made inside a timed call (events' own block reads) counts only in the outer one.
    let depth = 0;
    const timed = (label: string, o: object, m: string): void => {
      const target = o as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const f = target[m]!.bind(o);
      target[m] = async (...a: unknown[]) => {
        if (!timing || depth > 0) return f(...a);
        depth += 1;
        const t = performance.now();
        try {
          return await f(...a);
        } finally {
          depth -= 1;
          spent[label] = (spent[label] ?? 0) + performance.now() - t;
        }
      };
    };
    timed('chain: head and block headers', indexer.deps.source, 'head');
    timed('chain: head and block headers', indexer.deps.source, 'block');
    timed('chain: eth_getLogs + purchase terms + block timestamps', indexer.deps.source, 'events');
    timed('DynamoDB: cursor read and conditional save', indexer.deps.cursors, 'get');
    timed('DynamoDB: cursor read and conditional save', indexer.deps.cursors, 'put');
    indexer.deps.projections.forEach((p) => {
      timed('DynamoDB: projection writes (conditional PutItem per event)', p, 'apply');
      timed('DynamoDB: clearing above the cursor', p, 'rollbackAbove');
    });
    const from = indexer.params.startBlock;
    const head = await provider.getBlockNumber();
    const batch = indexer.params.maxBlocks;

    // Bare: the same getLogs ranges, parsed, nothing else.
    const bare = async () => {
      let events = 0;
      for (let b = from; b <= head; b += batch) {
        const logs = (await provider.send('eth_getLogs', [{ address: c.LicenseManager, fromBlock: toQuantity(b), toBlock: toQuantity(Math.min(head, b + batch - 1)), topics: TOPICS }])) as { topics: string[]; data: string }[];
        for (const l of logs) if (LM.parseLog(l)) events += 1;
      }
      return events;
    };
    // Ours: ticks of indexChain under a fresh cursor until it reaches the head.
    const ours = async (run: number) => {
      let events = 0;
      // Untimed: clear the records earlier rounds (and the stack's own loop) wrote, so the timed ticks index
      // into an empty projection as a first sync does (a fresh cursor would otherwise start by deleting them).
      for (const p of indexer.deps.projections) await p.rollbackAbove(from - 1);
      const s = performance.now();
      const params = { ...indexer.params, name: `bench-${run}-${Date.now()}` };
      timing = true;
      try {
        for (;;) {
          const r = await indexChain(indexer.deps, params);
          events += r.events;
          if (r.block >= head) return { events, seconds: (performance.now() - s) / 1000 };
        }
      } finally {
        timing = false;
      }
    };
    await bare(); // warm the RPC path
    const time = async (f: () => Promise<number>) => {
      const s = performance.now();
      const events = await f();
      return { events, seconds: (performance.now() - s) / 1000 };
    };
    const b1 = await time(bare);
    const o1 = await ours(1);
    const b2 = await time(bare);
    const o2 = await ours(2);
    const sum = (a: { events: number; seconds: number }, b: { events: number; seconds: number }) => ({ events: a.events + b.events, seconds: a.seconds + b.seconds });
    const [B, O] = [sum(b1, b2), sum(o1, o2)];
    if (O.events !== B.events) throw new Error(`the indexer applied ${O.events} events, getLogs returned ${B.events}`);
    const out = {
      bench: 'indexer',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: machineNow().loadavgStart },
      setup: `embedded stack in-process; ${LICENSES} purchases + ${LICENSES} jobs from one lab key (${setupSeconds.toFixed(1)} s, untimed); batches of ${batch} blocks; two interleaved rounds each`,
      blocks: head - from + 1,
      events: O.events / 2,
      ours: { what: 'indexChain ticks (EvmChainEventSource + DynamoLicenseIndex + cursor), fresh cursor', seconds: +O.seconds.toFixed(3), eventsPerSec: +(O.events / O.seconds).toFixed(1) },
      bare: { what: 'eth_getLogs over the same ranges, logs decoded', seconds: +B.seconds.toFixed(3), eventsPerSec: +(B.events / B.seconds).toFixed(1) },
      oursBreakdown: {
        what: 'wall ms of the timed ticks by dependency call (the rest: indexChain itself)',
        ms: Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, Math.round(v)])),
        share: Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, +(v / 1000 / O.seconds).toFixed(3)])),
      },
    };
    await writeFile(join(here, 'results', 'indexer.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out, null, 2));
  } finally {
    provider.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runMain(main);
