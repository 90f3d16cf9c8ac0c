/**
 * A lab's license transactions from its own key (it pays its own gas): buying (an ERC-2612 permit where the token
 * has one, else an approval, then `LicenseManager.purchase(datasetIds, maxPricesPerSample, budget, expiry)`),
 * reclaiming the budget no job was given, and refunding an ended job. Runs wherever an ethers `Signer` does (a
 * browser wallet included). The price caps are what the lab accepted: a price raised since (an owner front-running
 * the purchase) makes the purchase revert, which is reported as `LICENSE_PRICE_ABOVE_MAX`.
 *
 * The LicenseManager has no `purchaseWithPermit`, so a permit is its own transaction (the lab's key signs the
 * permit, then sends it and the purchase): it replaces an unlimited or separate `approve` by an exact-amount,
 * deadline-bound authorization, and the lab's wallet shows one typed-data signature instead of an approval prompt.
 */
import { Contract, Signature, TypedDataEncoder, type Signer, type TransactionReceipt, type TypedDataDomain } from 'ethers';
import { Errors__factory, LicenseManager__factory } from '../../contracts/typechain/index.js';
import { signPermit } from '../eip712.js';
import { ProvenaError } from '../errors.js';

const ERC20_ABI = [
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address owner) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function name() view returns (string)',
  // ERC-2612 and EIP-5267: read to detect a permit and its domain.
  'function nonces(address owner) view returns (uint256)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)',
  'function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)',
];
const ERRORS = Errors__factory.createInterface();
const LM = LicenseManager__factory.createInterface();

/** What {@link buyLicense} needs. Amounts in token base units; `expiry` in unix seconds. */
export interface BuyLicenseParameters {
  signer: Signer;
  licenseManager: string;
  datasetIds: readonly bigint[];
  /** One cap per dataset: the price per sample the lab accepted (usually the quote's). */
  maxPricesPerSample: readonly bigint[];
  budget: bigint;
  expiry: number;
  /** Blocks to wait for after the purchase is mined. @default 1 */
  confirmations?: number;
  /**
   * How the budget is authorized when the allowance is short: `auto` (a permit when the token supports ERC-2612,
   * else an approval), `permit` (refused with `PERMIT_UNSUPPORTED` when the token has none) or `approve`.
   * @default 'auto'
   */
  authorization?: 'auto' | 'permit' | 'approve';
  /** Called with each transaction hash as soon as it is sent. */
  onSent?(step: 'approve' | 'permit' | 'purchase', txHash: string): void;
}

export interface BuyLicenseReturnType {
  licenseId: string;
  txHash: string;
  blockNumber: number;
  /** How the budget was authorized: `allowance` when the existing allowance sufficed. */
  authorization: 'allowance' | 'permit' | 'approve';
}

/** The revert data inside an ethers error (estimateGas, call or receipt), if any. */
function revertData(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; i++) {
    const data = (e as { data?: unknown }).data;
    if (typeof data === 'string' && data.startsWith('0x') && data.length >= 10) return data;
    e = (e as { error?: unknown; info?: { error?: unknown } }).error ?? (e as { info?: { error?: unknown } }).info?.error ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps a purchase revert to a ProvenaError with a clear message; other errors pass through. */
export function purchaseError(err: unknown): unknown {
  const data = revertData(err);
  const parsed = data ? ERRORS.parseError(data) : null;
  if (!parsed) return err;
  if (parsed.name === 'LicenseManager_PriceAboveMax') {
    const [datasetId, price, max] = parsed.args as unknown as [bigint, bigint, bigint];
    return new ProvenaError(
      'LICENSE_PRICE_ABOVE_MAX',
      `Dataset ${datasetId} now costs ${price} per sample, above the ${max} you accepted: nothing was bought or paid. Quote again and buy at the new price if you accept it.`,
      { details: { datasetId: String(datasetId), pricePerSample: String(price), maxPricePerSample: String(max) }, cause: err },
    );
  }
  return holderError(parsed.name, parsed.args as unknown as readonly unknown[], err) ?? new ProvenaError('VALIDATION_FAILED', `The purchase would revert: ${parsed.name}(${parsed.args.map(String).join(', ')})`, { cause: err });
}

/** Maps the reverts of the holder's own calls (reclaim, refund) to codes; undefined for others. */
function holderError(name: string, args: readonly unknown[], cause: unknown): ProvenaError | undefined {
  const a = args.map(String);
  switch (name) {
    case 'LicenseManager_NotLicenseHolder':
      return new ProvenaError('FORBIDDEN_NOT_OWNER', `${a[1]} does not hold license ${a[0]}: only its holder can do this`, { cause });
    case 'LicenseManager_NothingToRefund':
      return new ProvenaError('NOTHING_TO_RECLAIM', 'Nothing to send back: every unit of the budget is allocated to jobs (reclaim) or was refunded', { cause });
    case 'LicenseManager_GraceNotOver':
      return new ProvenaError('JOB_REFUND_NOT_YET', `Job ${a[0]} can be refunded from ${new Date(Number(a[1]) * 1000).toISOString()} (its report window is still open)`, { cause, details: { jobId: a[0], refundableAt: a[1] } });
    case 'LicenseManager_AlreadyRefunded':
      return new ProvenaError('JOB_ALREADY_REFUNDED', `Job ${a[0]} was refunded already`, { cause });
    case 'LicenseManager_UnknownJob':
      return new ProvenaError('NOT_FOUND', `There is no job ${a[0]}`, { cause });
    case 'LicenseManager_ZeroAddress':
      return new ProvenaError('VALIDATION_FAILED', 'The destination address must not be zero', { cause });
    default:
      return undefined;
  }
}

/** Maps a reclaim or refund revert to a ProvenaError; other errors pass through. */
export function holderCallError(err: unknown): unknown {
  const data = revertData(err);
  const parsed = data ? ERRORS.parseError(data) : null;
  if (!parsed) return err;
  return holderError(parsed.name, parsed.args as unknown as readonly unknown[], err) ?? new ProvenaError('VALIDATION_FAILED', `The call would revert: ${parsed.name}(${parsed.args.map(String).join(', ')})`, { cause: err });
}

type SentTx = { hash: string; nonce: number; wait(c?: number): Promise<TransactionReceipt | null> };

/**
 * The token's ERC-2612 domain and `owner`'s permit nonce, or undefined when it has no permit: `nonces` and
 * `DOMAIN_SEPARATOR` must answer, and the domain (EIP-5267 `eip712Domain()`, else `name()` with version "1") must
 * hash to `DOMAIN_SEPARATOR` (a permit signed over another domain would only revert).
 */
export async function permitDomain(token: Contract, owner: Signer): Promise<{ domain: TypedDataDomain; nonce: bigint } | undefined> {
  const ownerAddress = await owner.getAddress();
  let separator: string;
  let nonce: bigint;
  try {
    [separator, nonce] = await Promise.all([token.getFunction('DOMAIN_SEPARATOR')() as Promise<string>, token.getFunction('nonces')(ownerAddress) as Promise<bigint>]);
  } catch {
    return undefined;
  }
  const verifyingContract = await token.getAddress();
  const chainId = (await owner.provider?.getNetwork())?.chainId;
  if (chainId === undefined) return undefined;
  const candidates: TypedDataDomain[] = [];
  try {
    const d = (await token.getFunction('eip712Domain')()) as [string, string, string, bigint, string];
    candidates.push({ name: d[1], version: d[2], chainId: d[3], verifyingContract: d[4] });
  } catch {
    // Not EIP-5267: try the common ERC-2612 domain below.
  }
  try {
    const name = (await token.getFunction('name')()) as string;
    candidates.push({ name, version: '1', chainId, verifyingContract }, { name, version: '2', chainId, verifyingContract });
  } catch {
    // No name(): only the EIP-5267 domain can match.
  }
  const domain = candidates.find((d) => TypedDataEncoder.hashDomain(d) === separator);
  return domain ? { domain, nonce } : undefined;
}

async function mined(tx: { hash: string; wait(confirmations?: number): Promise<TransactionReceipt | null> }, confirmations: number): Promise<TransactionReceipt> {
  const receipt = await tx.wait(confirmations);
  if (!receipt || receipt.status !== 1) throw new ProvenaError('DEPENDENCY_FAILED', `Transaction ${tx.hash} failed on chain`);
  return receipt;
}

/**
 * Approves `budget` (when the allowance is short) and buys the license. The purchase is simulated first, so a
 * moved price is refused before any transaction is sent; the contract checks the same caps again when mined.
 *
 * @example
 * ```ts
 * const { licenseId } = await buyLicense({ signer, licenseManager, datasetIds: [1n], maxPricesPerSample: [7n], budget: 250_000_000n, expiry });
 * ```
 */
export async function buyLicense(p: BuyLicenseParameters): Promise<BuyLicenseReturnType> {
  const confirmations = p.confirmations ?? 1;
  const manager = LicenseManager__factory.connect(p.licenseManager, p.signer);
  const { token: tokenAddress } = await manager.contractsInUse();
  const token = new Contract(tokenAddress, ERC20_ABI, p.signer);
  const lab = await p.signer.getAddress();
  const args: [bigint[], bigint[], bigint, number] = [[...p.datasetIds], [...p.maxPricesPerSample], p.budget, p.expiry];
  const simulate = async () => {
    try {
      await manager.purchase.staticCall(...args);
      return undefined;
    } catch (err) {
      return purchaseError(err);
    }
  };
  // The contract checks the caps before it pulls the budget: a moved price is refused before any approval is sent.
  let refused = await simulate();
  if (refused instanceof ProvenaError && refused.code === 'LICENSE_PRICE_ABOVE_MAX') throw refused;
  const allowance = (await token.getFunction('allowance')(lab, p.licenseManager)) as bigint;
  // Providers cache the pending nonce for a moment: the purchase names the one after the authorization's itself.
  let nonce: { nonce: number } | undefined;
  let authorization: BuyLicenseReturnType['authorization'] = 'allowance';
  if (allowance < p.budget) {
    const mode = p.authorization ?? 'auto';
    const permit = mode === 'approve' ? undefined : await permitDomain(token, p.signer);
    if (mode === 'permit' && !permit) throw new ProvenaError('PERMIT_UNSUPPORTED', `The payment token ${tokenAddress} has no ERC-2612 permit: buy with an approval instead`);
    let tx: SentTx;
    if (permit) {
      const deadline = BigInt((await p.signer.provider?.getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600n;
      const value = p.budget;
      const sig = Signature.from(await signPermit(p.signer, permit.domain, { owner: lab, spender: p.licenseManager, value, nonce: permit.nonce, deadline }));
      tx = (await token.getFunction('permit')(lab, p.licenseManager, value, deadline, sig.v, sig.r, sig.s)) as SentTx;
      p.onSent?.('permit', tx.hash);
      authorization = 'permit';
    } else {
      tx = (await token.getFunction('approve')(p.licenseManager, p.budget)) as SentTx;
      p.onSent?.('approve', tx.hash);
      authorization = 'approve';
    }
    await mined(tx, 1);
    nonce = { nonce: tx.nonce + 1 };
    refused = await simulate();
  }
  if (refused) throw refused;
  let tx;
  try {
    tx = await manager.purchase(...args, nonce ?? {});
  } catch (err) {
    throw purchaseError(err);
  }
  p.onSent?.('purchase', tx.hash);
  let receipt: TransactionReceipt;
  try {
    receipt = await mined(tx, confirmations);
  } catch (err) {
    throw purchaseError(err);
  }
  for (const log of receipt.logs) {
    const parsed = (() => {
      try {
        return LM.parseLog(log);
      } catch {
        return null;
      }
    })();
    if (parsed?.name === 'LicensePurchased') return { licenseId: String(parsed.args[0]), txHash: tx.hash, blockNumber: receipt.blockNumber, authorization };
  }
  throw new ProvenaError('DEPENDENCY_FAILED', `Transaction ${tx.hash} was mined without a LicensePurchased event`);
}

/** The payment token's decimals (to read amounts typed by a person). */
export async function tokenDecimals(signer: Signer, licenseManager: string): Promise<number> {
  const { token } = await LicenseManager__factory.connect(licenseManager, signer).contractsInUse();
  return Number(await new Contract(token, ERC20_ABI, signer).getFunction('decimals')());
}

/** What {@link reclaimUnallocated} and {@link refundJob} need. */
export interface HolderCallParameters {
  signer: Signer;
  licenseManager: string;
  /** Where the funds go. @default the signer's address */
  to?: string;
  /** Blocks to wait for after the transaction mined. @default 1 */
  confirmations?: number;
  onSent?(txHash: string): void;
}

/** A mined reclaim or refund: what its event says. */
export interface HolderCallReturnType {
  to: string;
  amount: string;
  txHash: string;
  blockNumber: number;
}

async function holderCall(
  p: HolderCallParameters,
  call: (manager: ReturnType<typeof LicenseManager__factory.connect>, to: string) => { simulate(): Promise<unknown>; send(): Promise<SentTx> },
  event: 'UnallocatedReclaimed' | 'JobRefunded',
): Promise<HolderCallReturnType> {
  const manager = LicenseManager__factory.connect(p.licenseManager, p.signer);
  const to = p.to ?? (await p.signer.getAddress());
  const c = call(manager, to);
  // Simulated first: a refused call (not the holder, nothing left, too early) costs no gas.
  try {
    await c.simulate();
  } catch (err) {
    throw holderCallError(err);
  }
  let tx: SentTx;
  try {
    tx = await c.send();
  } catch (err) {
    throw holderCallError(err);
  }
  p.onSent?.(tx.hash);
  const receipt = await mined(tx, p.confirmations ?? 1);
  for (const log of receipt.logs) {
    let parsed;
    try {
      parsed = LM.parseLog(log);
    } catch {
      parsed = null;
    }
    if (parsed?.name === event) return { to: String(parsed.args[1]), amount: String(parsed.args[2]), txHash: tx.hash, blockNumber: receipt.blockNumber };
  }
  throw new ProvenaError('DEPENDENCY_FAILED', `Transaction ${tx.hash} was mined without a ${event} event`);
}

/**
 * Sends the license's budget that no job was given back to `to` (`reclaimUnallocated`), from the holder's key.
 * Refused before any transaction with `FORBIDDEN_NOT_OWNER` (not the holder) or `NOTHING_TO_RECLAIM`.
 *
 * @example
 * ```ts
 * const { amount, txHash } = await reclaimUnallocated({ signer, licenseManager, licenseId: 1n });
 * ```
 */
export function reclaimUnallocated(p: HolderCallParameters & { licenseId: bigint }): Promise<HolderCallReturnType> {
  return holderCall(p, (m, to) => ({ simulate: () => m.reclaimUnallocated.staticCall(p.licenseId, to), send: () => m.reclaimUnallocated(p.licenseId, to) as Promise<SentTx> }), 'UnallocatedReclaimed');
}

/**
 * Sends an ended job's unused budget to `to` (`refund`) once its report window closed, from the holder's key.
 * Refused before any transaction with `FORBIDDEN_NOT_OWNER`, `JOB_REFUND_NOT_YET` (with `refundableAt`),
 * `JOB_ALREADY_REFUNDED` or `NOT_FOUND`.
 */
export function refundJob(p: HolderCallParameters & { jobId: bigint }): Promise<HolderCallReturnType> {
  return holderCall(p, (m, to) => ({ simulate: () => m.refund.staticCall(p.jobId, to), send: () => m.refund(p.jobId, to) as Promise<SentTx> }), 'JobRefunded');
}
