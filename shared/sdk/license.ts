/**
 * Buying a license from the lab's own key (it pays its own gas): approve the budget, then
 * `LicenseManager.purchase(datasetIds, maxPricesPerSample, budget, expiry)`. Runs wherever an ethers `Signer` does
 * (a browser wallet included). The price caps are what the lab accepted: a price raised since (an owner
 * front-running the purchase) makes the purchase revert, which is reported as `LICENSE_PRICE_ABOVE_MAX`.
 */
import { Contract, type Signer, type TransactionReceipt } from 'ethers';
import { Errors__factory, LicenseManager__factory } from '../../contracts/typechain/index.js';
import { ProvenaError } from '../errors.js';

const ERC20_ABI = [
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address owner) view returns (uint256)',
  'function decimals() view returns (uint8)',
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
  /** Called with each transaction hash as soon as it is sent. */
  onSent?(step: 'approve' | 'purchase', txHash: string): void;
}

export interface BuyLicenseReturnType {
  licenseId: string;
  txHash: string;
  blockNumber: number;
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
  return new ProvenaError('VALIDATION_FAILED', `The purchase would revert: ${parsed.name}(${parsed.args.map(String).join(', ')})`, { cause: err });
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
  // Providers cache the pending nonce for a moment: the purchase names the one after the approval's itself.
  let nonce: { nonce: number } | undefined;
  if (allowance < p.budget) {
    const tx = (await token.getFunction('approve')(p.licenseManager, p.budget)) as { hash: string; nonce: number; wait(c?: number): Promise<TransactionReceipt | null> };
    p.onSent?.('approve', tx.hash);
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
    if (parsed?.name === 'LicensePurchased') return { licenseId: String(parsed.args[0]), txHash: tx.hash, blockNumber: receipt.blockNumber };
  }
  throw new ProvenaError('DEPENDENCY_FAILED', `Transaction ${tx.hash} was mined without a LicensePurchased event`);
}

/** The payment token's decimals (to read amounts typed by a person). */
export async function tokenDecimals(signer: Signer, licenseManager: string): Promise<number> {
  const { token } = await LicenseManager__factory.connect(licenseManager, signer).contractsInUse();
  return Number(await new Contract(token, ERC20_ABI, signer).getFunction('decimals')());
}
