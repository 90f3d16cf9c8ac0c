/**
 * Deploys a full Provena system on the in-process chain through {@link deployProvena} (so tests cover the deploy
 * path too), funds labs, and offers one-line helpers for the common steps. Ids are read from emitted events.
 */
import { Wallet, id, type ContractTransactionResponse, type JsonRpcSigner, type Log, type Signer } from 'ethers';
import { deployProvena } from '../../deploy.js';
import { licenseManagerDomain, signUsageReport, type UsageReportMessage } from '../../../shared/eip712.js';
import {
  AttestationRegistry__factory,
  DatasetRegistry__factory,
  FeeOnTransferToken__factory,
  LicenseManager__factory,
  MockUSD__factory,
  NoReturnToken__factory,
  ReentrantToken__factory,
  TrainingLicense__factory,
  type AttestationRegistry,
  type DatasetRegistry,
  type LicenseManager,
  type MockUSD,
  type TrainingLicense,
} from '../../typechain/index.js';
import { getChain, type Chain } from './chain.js';

export const ZERO_ROOT = `0x${'00'.repeat(32)}`;
export const GRACE = 3600;
export const USD = 1_000_000n; // 6 decimals
export const DAY = 86_400;
/** The highest price the registry accepts (what a job's slot stores): `type(uint96).max`. */
export const MAX_PRICE = 2n ** 96n - 1n;
/** The evidence hash the fixture's attestor approves worker keys on. */
export const EVIDENCE = id('provena test evidence');

/** Per-dataset maximum prices for `purchase` that accept any listed price (the buyer sets no cap). */
export function anyPrice(datasetIds: readonly unknown[]): bigint[] {
  return datasetIds.map(() => MAX_PRICE);
}

export type TokenKind = 'mock' | 'noReturn' | 'feeOnTransfer' | 'reentrant';

export interface System {
  chain: Chain;
  admin: JsonRpcSigner;
  /** Holds ATTESTOR_ROLE (not the admin); `attestations` is connected to it. */
  attestor: JsonRpcSigner;
  /** Funded labs (1,000,000 USD each, manager approved). */
  labs: JsonRpcSigner[];
  /** Dataset owners / royalty recipients. */
  people: JsonRpcSigner[];
  /** The attested worker key (approved for jobs by {@link openJob}). */
  worker: Wallet;
  /** Any ERC-20 with `mint` (the MockUSD ABI is used for all token kinds: mint/approve/balanceOf match). */
  token: MockUSD;
  registry: DatasetRegistry;
  attestations: AttestationRegistry;
  manager: LicenseManager;
  license: TrainingLicense;
}

/** The worker's deterministic test key. */
export const WORKER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export async function deploySystem(kind: TokenKind = 'mock', options: { labs?: number } = {}): Promise<System> {
  const chain = await getChain();
  const [admin, ...rest] = chain.signers;
  const attestor = rest.pop();
  if (!admin || !attestor) throw new Error('no signers');
  const labs = rest.slice(0, options.labs ?? 3);
  const people = rest.slice(options.labs ?? 3);
  let paymentToken: string | undefined;
  if (kind !== 'mock') {
    const factory =
      kind === 'noReturn' ? new NoReturnToken__factory(admin) : kind === 'feeOnTransfer' ? new FeeOnTransferToken__factory(admin) : new ReentrantToken__factory(admin);
    const t = await factory.deploy();
    await t.waitForDeployment();
    paymentToken = await t.getAddress();
  }
  const deployment = await deployProvena(admin, {
    ...(paymentToken ? { paymentToken } : {}),
    gracePeriodSeconds: GRACE,
    attestor: await attestor.getAddress(),
  });
  const c = deployment.contracts;
  const sys: System = {
    chain,
    admin,
    attestor,
    labs,
    people,
    worker: new Wallet(WORKER_KEY),
    token: MockUSD__factory.connect(c.PaymentToken!, admin),
    registry: DatasetRegistry__factory.connect(c.DatasetRegistry!, admin),
    attestations: AttestationRegistry__factory.connect(c.AttestationRegistry!, attestor),
    manager: LicenseManager__factory.connect(c.LicenseManager!, admin),
    license: TrainingLicense__factory.connect(c.TrainingLicense!, admin),
  };
  for (const lab of labs) {
    await (await sys.token.mint(await lab.getAddress(), 1_000_000n * USD)).wait();
    await (await sys.token.connect(lab).approve(c.LicenseManager!, 2n ** 255n)).wait();
  }
  return sys;
}

/** Sends a transaction, waits for it, and returns the parsed logs of `contract`-like interfaces. */
export async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error('no receipt');
  return receipt;
}

function eventArg(logs: readonly Log[], iface: { parseLog(l: Log): { name: string; args: unknown } | null }, name: string, index = 0): bigint {
  for (const l of logs) {
    let parsed: { name: string; args: unknown } | null = null;
    try {
      parsed = iface.parseLog(l);
    } catch {
      parsed = null;
    }
    if (parsed?.name === name) return (parsed.args as readonly bigint[])[index]!;
  }
  throw new Error(`no ${name} event`);
}

/** Registers a dataset with an explicit split; returns its id. */
export async function registerExplicit(
  sys: System,
  owner: JsonRpcSigner,
  price: bigint,
  split: { recipients: string[]; bps: number[] },
  manifestCid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
): Promise<bigint> {
  const rc = await mined(
    sys.registry.connect(owner).register({ manifestCid, pricePerSample: price, split: { ...split, merkleRoot: ZERO_ROOT, totalUnits: 0n } }),
  );
  return eventArg(rc.logs, sys.registry.interface, 'DatasetRegistered');
}

/** Registers a dataset with a Merkle split; returns its id. */
export async function registerMerkle(sys: System, owner: JsonRpcSigner, price: bigint, root: string, totalUnits: bigint): Promise<bigint> {
  const rc = await mined(
    sys.registry.connect(owner).register({ manifestCid: 'bafy-merkle', pricePerSample: price, split: { recipients: [], bps: [], merkleRoot: root, totalUnits } }),
  );
  return eventArg(rc.logs, sys.registry.interface, 'DatasetRegistered');
}

/** Buys a license; returns its id. */
export async function buyLicense(sys: System, lab: JsonRpcSigner, datasetIds: bigint[], budget: bigint, expiry?: bigint): Promise<bigint> {
  const exp = expiry ?? (await sys.chain.latestTimestamp()) + BigInt(30 * DAY);
  const rc = await mined(sys.manager.connect(lab).purchase(datasetIds, anyPrice(datasetIds), budget, exp));
  return eventArg(rc.logs, sys.manager.interface, 'LicensePurchased');
}

/** Opens a job and has the attestor approve the fixture's worker key for it (on {@link EVIDENCE}); returns its id. */
export async function openJob(sys: System, lab: JsonRpcSigner, licenseId: bigint, budget: bigint, rate = 10n ** 30n): Promise<bigint> {
  const rc = await mined(sys.manager.connect(lab).openJob(licenseId, budget, rate));
  const jobId = eventArg(rc.logs, sys.manager.interface, 'JobOpened');
  await mined(sys.attestations.approveWorker(jobId, sys.worker.address, EVIDENCE));
  return jobId;
}

/** Builds a cumulative report (`amounts = samples * price`) and signs it with `signer` (default: the worker). */
export async function signedReport(
  sys: System,
  jobId: bigint,
  entries: { datasetId: bigint; samples: bigint; price: bigint }[],
  signer: Signer = sys.worker,
): Promise<{ report: UsageReportMessage; signature: string }> {
  const report: UsageReportMessage = {
    jobId,
    datasetIds: entries.map((e) => e.datasetId),
    samples: entries.map((e) => e.samples),
    amounts: entries.map((e) => e.samples * e.price),
  };
  const domain = licenseManagerDomain(sys.chain.chainId, await sys.manager.getAddress());
  return { report, signature: await signUsageReport(signer, domain, report) };
}

export async function balanceOf(sys: System, account: string | { getAddress(): Promise<string> }): Promise<bigint> {
  return sys.token.balanceOf(typeof account === 'string' ? account : await account.getAddress());
}
