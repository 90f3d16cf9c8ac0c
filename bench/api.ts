/**
 * npm run bench:api — latency and throughput of the API's listing, license, job, royalty and Merkle split reads against the embedded stack, as ratios to
 * a bare `node:http` server measured in the same run, plus the signed-request verifier against raw
 * `ethers.verifyTypedData`. Writes bench/results/api.json.
 *
 * The stack is started in this process with `startStack` (stack/stack.ts: Hardhat node as a child process;
 * dynalite, s3rver, the IPFS store and the API's HTTP server in-process) on free loopback ports, a temporary
 * `PROVENA_DATA_DIR` and `PROVENA_LOG_LEVEL=SILENT`, and stopped at the end. The load generator runs in the same
 * process and event loop as the server, and so does the floor server, so both sides of every ratio pay the same.
 *
 * Each route: BENCH_API_REQUESTS (default 300) requests, BENCH_API_CONCURRENCY (default 8) in flight, after
 * BENCH_API_WARMUP (default 20) untimed ones; the floor is measured before and after the routes and the ratio
 * uses their mean (one untimed floor run comes first, to warm the client's JIT). Latency is per request as the
 * SDK client sees it (for POST this includes EIP-712 signing on the client). Micro: BENCH_API_VERIFY (default
 * 1000) distinct signed requests, verified in 3 interleaved rounds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, SigningKey, Wallet, getAddress, hexlify, randomBytes, verifyTypedData } from 'ethers';
import { startFreshStack } from '../stack/freshStack.js';
import { AUTH_HEADERS, bodyHash, signRequest, verifySignedRequest } from '../shared/auth/signedRequest.js';
import { REQUEST_TYPES, requestDomain } from '../shared/eip712.js';
import type { VerifyDeps } from '../shared/auth/signedRequest.js';
import type { ComponentHealth } from '../shared/ports/Health.js';
import type { NonceStore } from '../shared/ports/NonceStore.js';
import type { SignatureVerifier } from '../shared/ports/SignatureVerifier.js';
import type { DatasetInputWire } from '../shared/schemas/dataset.js';
import type { Recipe } from '../shared/schemas/recipe.js';
import { ProvenaClient } from '../shared/sdk/client.js';
import { exampleListing } from '../cli/example-listing.js';
import { LicenseManager__factory, MockUSD__factory } from '../contracts/typechain/index.js';
import { routes as apiRoutes } from '../shared/http/routes.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { runLoad, startFloor, type LoadResult } from './lib/load.js';
import { machineNow } from './lib/figures.js';
import { runMain } from './lib/main.js';

const REQUESTS = Number(process.env.BENCH_API_REQUESTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_API_CONCURRENCY ?? 8);
const WARMUP = Number(process.env.BENCH_API_WARMUP ?? 20);
const VERIFY = Number(process.env.BENCH_API_VERIFY ?? 1000);
/** Recipients of the benched Merkle split (the schema's bound is 10,000; one create of 10,000 was reset under load 12, see the report). */
const MERKLE_SHARES = Number(process.env.BENCH_API_MERKLE_SHARES ?? 2_000);
/** A small valid recipe for the benched job (it is queued, never trained). */
const BENCH_RECIPE: Recipe = {
  kind: 'text-classifier', label: 'sentiment', textColumn: 'text', vocabSize: 256, maxTokens: 32, embeddingDim: 16, convChannels: 16,
  kernelSize: 3, epochs: 1, batchSize: 32, lr: 0.01, hiddenSizes: [16], seed: 7, validationFraction: 0.2,
};
const here = dirname(fileURLToPath(import.meta.url));
const load = (n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<LoadResult> => runLoad(n, concurrency, WARMUP, fn);

/** A valid listing owned by `owner`: the CLI's example listing (what `provena dataset template` prints), numbered. */
function listing(owner: string, paymentToken: string, i: number): DatasetInputWire {
  const base = exampleListing(owner, paymentToken);
  return { ...base, title: `${base.title} #${i}` };
}

/** NonceStore port in memory (a Map), for the verifier micro-benchmark. */
class MemoryNonceStore implements NonceStore {
  readonly #used = new Map<string, number>();
  async consume(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    const k = `${scope.toLowerCase()}|${nonce}`;
    const at = this.#used.get(k);
    if (at !== undefined && at >= Math.floor(Date.now() / 1000)) return false;
    this.#used.set(k, expiresAt);
    return true;
  }
  async health(): Promise<ComponentHealth> {
    return { status: 'ok', detail: 'memory' };
  }
}

/** SignatureVerifier port that says "no contract": EOA signatures only, no chain. */
const noContracts: SignatureVerifier = {
  isContract: async () => false,
  isValidErc1271Signature: async () => false,
  isValidErc6492Signature: async () => false,
  health: async () => ({ status: 'ok', detail: 'no chain' }),
};

interface MicroResult {
  messages: number;
  rounds: number;
  oursPerSec: number;
  rawPerSec: number;
  ratio: number;
  baseline: string;
}

async function microVerify(): Promise<MicroResult> {
  const chainId = 31337;
  const wallet = Wallet.createRandom();
  const address = wallet.address;
  const path = '/v1/datasets';
  const body = JSON.stringify(listing(address, `0x${'11'.repeat(20)}`, 0));
  const hash = bodyHash(body);
  const signed: { headers: Record<string, string>; message: Record<string, unknown>; signature: string }[] = [];
  for (let i = 0; i < VERIFY + 10; i++) {
    const headers = await signRequest(wallet, { chainId, method: 'POST', path, body });
    const message = { account: address, method: 'POST', path, bodyHash: hash, timestamp: Number(headers[AUTH_HEADERS.timestamp]), nonce: headers[AUTH_HEADERS.nonce] };
    signed.push({ headers, message, signature: headers[AUTH_HEADERS.signature]! });
  }
  const warm = signed.slice(VERIFY);
  const msgs = signed.slice(0, VERIFY);
  const deps = (): VerifyDeps => ({ chainId, nonces: new MemoryNonceStore(), chain: noContracts, maxSkewSeconds: 300, now: () => Math.floor(Date.now() / 1000) });
  const domain = requestDomain(chainId);
  const ours = async (list: typeof msgs, d: VerifyDeps) => {
    for (const m of list) {
      const c = await verifySignedRequest({ method: 'POST', path, headers: m.headers, body }, d);
      if (c.address !== address) throw new Error('verifySignedRequest: wrong address');
    }
  };
  const raw = async (list: typeof msgs) => {
    for (const m of list) if (verifyTypedData(domain, REQUEST_TYPES, m.message, m.signature) !== address) throw new Error('verifyTypedData: wrong address');
  };
  await ours(warm, deps());
  await raw(warm);
  const ROUNDS = 3;
  let tOurs = 0;
  let tRaw = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    await raw(msgs);
    tRaw += performance.now() - t0;
    t0 = performance.now();
    await ours(msgs, deps()); // a fresh nonce store per round: each nonce is accepted once
    tOurs += performance.now() - t0;
  }
  const oursPerSec = (VERIFY * ROUNDS) / (tOurs / 1000);
  const rawPerSec = (VERIFY * ROUNDS) / (tRaw / 1000);
  return {
    messages: VERIFY,
    rounds: ROUNDS,
    oursPerSec: +oursPerSec.toFixed(0),
    rawPerSec: +rawPerSec.toFixed(0),
    ratio: +(oursPerSec / rawPerSec).toFixed(3),
    baseline: 'ethers.verifyTypedData(domain, Request types, same message, same signature), interleaved rounds',
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const started = performance.now();
  console.log(`bench:api ${REQUESTS} requests x concurrency ${CONCURRENCY} per route, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);

  const micro = await microVerify();
  console.log(`verifySignedRequest ${micro.oursPerSec}/s  raw verifyTypedData ${micro.rawPerSec}/s  ratio ${(micro.ratio * 100).toFixed(1)}%`);

  const dataDir = await mkdtemp(join(tmpdir(), 'provena-bench-api-'));
  const t0 = performance.now();
  const stack = await startFreshStack(join(dataDir, 'data'), {
    // The per-client rate limit would answer 429 to a load generator: off, as on a private bench.
    PROVENA_RATE_LIMIT_RPS: '0',
  });
  const stackStartSeconds = (performance.now() - t0) / 1000;
  const floorServer = await startFloor();
  try {
    const { info } = stack;
    console.log(`stack up in ${stackStartSeconds.toFixed(1)} s at ${info.apiUrl}`);
    const paymentToken = info.deployment.contracts.PaymentToken;
    if (paymentToken === undefined) throw new Error('no PaymentToken in the deployment');
    const wallet = Wallet.createRandom();
    const client = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet });
    const floorClient = new ProvenaClient({ baseUrl: floorServer.url, chainId: info.chainId, signer: wallet });
    const floorBody = listing(wallet.address, paymentToken, 0);

    const runFloor = async () => ({
      get: await load(REQUESTS, CONCURRENCY, async () => void (await floorClient.request('GET', '/'))),
      signedPost: await load(REQUESTS, CONCURRENCY, async () => void (await floorClient.request('POST', '/v1/datasets', { body: floorBody, signed: true }))),
    });
    await runFloor(); // untimed: warms fetch/undici and the JIT, else the first floor reads low
    const floorBefore = await runFloor();
    console.log(`floor GET {}          ${floorBefore.get.reqPerSec} req/s  p50 ${floorBefore.get.p50Ms} ms  p95 ${floorBefore.get.p95Ms} ms`);
    console.log(`floor signed POST {}  ${floorBefore.signedPost.reqPerSec} req/s  p50 ${floorBefore.signedPost.p50Ms} ms  p95 ${floorBefore.signedPost.p95Ms} ms`);

    const ids: string[] = [];
    const create = await load(REQUESTS, CONCURRENCY, async (i) => {
      const ds = await client.createDataset(listing(wallet.address, paymentToken, i));
      if (i >= 0) ids[i] = ds.id;
    });
    if (ids.filter(Boolean).length !== REQUESTS) throw new Error(`created ${ids.filter(Boolean).length} listings, expected ${REQUESTS}`);
    const list = await load(REQUESTS, CONCURRENCY, async () => {
      const page = await client.listDatasets({ limit: 20 });
      if (page.items.length !== 20) throw new Error(`list returned ${page.items.length} items`);
    });
    const get = await load(REQUESTS, CONCURRENCY, async (i) => {
      const id = ids[(i + REQUESTS) % REQUESTS]!;
      const ds = await client.getDataset(id);
      if (ds.id !== id) throw new Error('wrong listing');
    });

    // License and royalty reads: one listing registered on chain (relayed), bought by a lab key; the indexer
    // loop puts the license in the index. Untimed set-up.
    const registered = await client.registerDataset(ids[0]!);
    const chainId = BigInt(registered.chainDatasetId!);
    const rpc = new JsonRpcProvider(info.rpcUrl, info.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const labKey = new Wallet(devAccountKey(15), rpc);
    const mock = MockUSD__factory.connect(paymentToken, labKey);
    await (await mock.mint(labKey.address, 10n ** 18n)).wait();
    await (await mock.approve(info.deployment.contracts.LicenseManager!, 2n ** 255n)).wait();
    const manager = LicenseManager__factory.connect(info.deployment.contracts.LicenseManager!, labKey);
    const expiry = (await rpc.getBlock('latest'))!.timestamp + 30 * 86_400;
    const prc = await (await manager.purchase([chainId], [2n ** 96n - 1n], 10n ** 12n, expiry)).wait();
    const licenseId = String(manager.interface.parseLog(prc!.logs.find((l) => l.address.toLowerCase() === info.deployment.contracts.LicenseManager!.toLowerCase())!)!.args[0]);
    // A job on that license, opened on chain by the lab and accepted by the API (signed by the holder).
    const orc = await (await manager.openJob(BigInt(licenseId), 10n ** 9n, 10n ** 6n)).wait();
    const jobId = String(orc!.logs.map((l) => { try { return manager.interface.parseLog(l); } catch { return null; } }).find((p) => p?.name === 'JobOpened')!.args[0]);
    rpc.destroy();
    for (const deadline = Date.now() + 60_000; ; ) {
      const page = await client.call(apiRoutes.listLicenses, { query: { holder: labKey.address, limit: 10 } });
      if (page.items.some((l) => l.id === licenseId)) break;
      if (Date.now() > deadline) throw new Error(`license ${licenseId} not indexed within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const license = await load(REQUESTS, CONCURRENCY, async () => {
      const l = await client.call(apiRoutes.getLicense, { params: { id: licenseId } });
      if (l.id !== licenseId) throw new Error('wrong license');
    });
    const licenses = await load(REQUESTS, CONCURRENCY, async () => {
      const page = await client.call(apiRoutes.listLicenses, { query: { holder: labKey.address, limit: 20 } });
      if (page.items.length === 0) throw new Error('no licenses listed');
    });
    const royalties = await load(REQUESTS, CONCURRENCY, async () => {
      await client.call(apiRoutes.getRoyalties, { params: { address: wallet.address } });
    });
    const labClient = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: labKey });
    await labClient.call(apiRoutes.submitJob, { body: { jobId, recipe: BENCH_RECIPE, modelKey: SigningKey.computePublicKey(labKey.signingKey.publicKey, true) } });
    const job = await load(REQUESTS, CONCURRENCY, async () => {
      const j = await client.call(apiRoutes.getJob, { params: { jobId } });
      if (j.id !== jobId) throw new Error('wrong job');
    });
    const jobs = await load(REQUESTS, CONCURRENCY, async () => {
      const page = await client.call(apiRoutes.listJobs, { query: { holder: labKey.address, limit: 20 } });
      if (page.items.length === 0) throw new Error('no jobs listed');
    });
    // A Merkle split of MERKLE_SHARES recipients, registered: proofs served from its stored tree (cached by CID),
    // checked against the registry's root; and one recipient's royalties (the tree says it is paid there).
    const shares = Array.from({ length: MERKLE_SHARES }, () => ({ account: getAddress(hexlify(randomBytes(20))), units: '1' }));
    const { royaltySplit: _explicit, ...merkleBase } = listing(wallet.address, paymentToken, REQUESTS);
    const merkleListing = await client.createDataset({ ...merkleBase, merkleShares: shares });
    await client.registerDataset(merkleListing.id);
    const split = await load(REQUESTS, CONCURRENCY, async (i) => {
      const account = shares[(i + REQUESTS) % MERKLE_SHARES]!.account;
      const share = await client.call(apiRoutes.getSplitShare, { params: { id: merkleListing.id, address: account } });
      if (share.proof.length === 0) throw new Error('no proof');
    });
    const merkleRoyalties = await load(REQUESTS, CONCURRENCY, async () => {
      const r = await client.call(apiRoutes.getRoyalties, { params: { address: shares[0]!.account } });
      if (r.datasets.length !== 1) throw new Error('the Merkle recipient is not listed');
    });

    const floorAfter = await runFloor();
    const floorGet = (floorBefore.get.reqPerSec + floorAfter.get.reqPerSec) / 2;
    const floorPost = (floorBefore.signedPost.reqPerSec + floorAfter.signedPost.reqPerSec) / 2;
    const mean = (a: number, b: number) => +((a + b) / 2).toFixed(2);
    const getFloor = { label: 'bare node:http GET {} (same client, same run)', reqPerSec: +floorGet.toFixed(1), p50Ms: mean(floorBefore.get.p50Ms, floorAfter.get.p50Ms) };
    const postFloor = { label: 'bare node:http signed POST {} (same client, same run)', reqPerSec: +floorPost.toFixed(1), p50Ms: mean(floorBefore.signedPost.p50Ms, floorAfter.signedPost.p50Ms) };

    const routes = [
      { id: 'createDataset', route: 'POST /v1/datasets (signed)', ...create, floor: postFloor, ratioToFloor: +(create.reqPerSec / floorGet).toFixed(3), ratioToSignedFloor: +(create.reqPerSec / floorPost).toFixed(3) },
      { id: 'listDatasets', route: 'GET /v1/datasets?limit=20', ...list, floor: getFloor, ratioToFloor: +(list.reqPerSec / floorGet).toFixed(3) },
      { id: 'getDataset', route: 'GET /v1/datasets/{id}', ...get, floor: getFloor, ratioToFloor: +(get.reqPerSec / floorGet).toFixed(3) },
      { id: 'getLicense', route: 'GET /v1/licenses/{id}', ...license, floor: getFloor, ratioToFloor: +(license.reqPerSec / floorGet).toFixed(3) },
      { id: 'listLicenses', route: 'GET /v1/licenses?holder=', ...licenses, floor: getFloor, ratioToFloor: +(licenses.reqPerSec / floorGet).toFixed(3) },
      { id: 'getRoyalties', route: 'GET /v1/royalties/{address}', ...royalties, floor: getFloor, ratioToFloor: +(royalties.reqPerSec / floorGet).toFixed(3) },
      { id: 'getRoyaltiesMerkle', route: `GET /v1/royalties/{address} (Merkle recipient, ${MERKLE_SHARES}-leaf tree)`, ...merkleRoyalties, floor: getFloor, ratioToFloor: +(merkleRoyalties.reqPerSec / floorGet).toFixed(3) },
      { id: 'getJob', route: 'GET /v1/jobs/{jobId}', ...job, floor: getFloor, ratioToFloor: +(job.reqPerSec / floorGet).toFixed(3) },
      { id: 'listJobs', route: 'GET /v1/jobs?holder=', ...jobs, floor: getFloor, ratioToFloor: +(jobs.reqPerSec / floorGet).toFixed(3) },
      { id: 'getSplitShare', route: `GET /v1/datasets/{id}/split/{address} (${MERKLE_SHARES}-leaf tree)`, ...split, floor: getFloor, ratioToFloor: +(split.reqPerSec / floorGet).toFixed(3) },
    ];
    for (const r of routes) console.log(`${r.route.padEnd(46)} ${r.reqPerSec} req/s  p50 ${r.p50Ms} ms  p95 ${r.p95Ms} ms  ${(r.ratioToFloor * 100).toFixed(1)}% of floor`);
    console.log(`floor after: GET {} ${floorAfter.get.reqPerSec} req/s, signed POST {} ${floorAfter.signedPost.reqPerSec} req/s`);

    const loadEnd = loadavg();
    const out = {
      bench: 'api',
      date: new Date().toISOString(),
      machine: { ...machineNow(), loadavgStart: loadStart.map((l) => +l.toFixed(2)) },
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadavg1: +loadStart[0]!.toFixed(2),
      loadavg1End: +loadEnd[0]!.toFixed(2),
      seconds: +((performance.now() - started) / 1000).toFixed(1),
      stackStartSeconds: +stackStartSeconds.toFixed(1),
      setup:
        'startStack in-process (Hardhat node child; dynalite, s3rver, IPFS store, API server in-process), 127.0.0.1 only, ' +
        'PROVENA_LOG_LEVEL=SILENT; load generator = SDK ProvenaClient (fetch) in the same process',
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      warmup: WARMUP,
      floor: {
        what: 'bare node:http server on 127.0.0.1 answering {} (same process, same client); ratios use the mean of before and after',
        getReqPerSec: +floorGet.toFixed(1),
        signedPostReqPerSec: +floorPost.toFixed(1),
        before: floorBefore,
        after: floorAfter,
      },
      routes,
      verify: micro,
    };
    await writeFile(join(here, 'results', 'api.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`${out.seconds} s, load ${loadEnd.map((l) => l.toFixed(2)).join(' ')} at the end -> bench/results/api.json`);
  } finally {
    await floorServer.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runMain(main);
