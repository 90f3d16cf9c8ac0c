import { zeroPadValue, type Log, type Provider } from 'ethers';
import { LicenseManager__abi, MockUSD__abi } from '../../../contracts/typechain/abis.js';
import { DependencyError } from '../../errors.js';
import { mapLimit } from '../mapLimit.js';
import type { ChainBlock, ChainEventSource, IndexedEvent, LogPosition, RoyaltiesClaimedEvent } from '../../ports/ChainEventSource.js';

const LM = LicenseManager__abi.createInterface();
/** JSON-RPC reads in flight at once while decoding one range's logs. */
const RPC_CONCURRENCY = 8;
const PURCHASED = LM.getEvent('LicensePurchased');
const JOB_OPENED = LM.getEvent('JobOpened');
const ACCRUED = LM.getEvent('RoyaltyAccrued');
const CLAIMED = LM.getEvent('RoyaltiesClaimed');
/** The LicenseManager's events that send tokens out, each emitted right before its transfer. */
const OUTFLOWS = new Set([CLAIMED.topicHash, LM.getEvent('JobRefunded').topicHash, LM.getEvent('UnallocatedReclaimed').topicHash, LM.getEvent('ResidualSwept').topicHash]);
/** ERC-20 `Transfer` (the payment token's; its standard signature, so any token's). */
const ERC20 = MockUSD__abi.createInterface();
const TRANSFER = ERC20.getEvent('Transfer');

/**
 * {@link ChainEventSource} over JSON-RPC (ethers v6): `eth_getLogs` on the LicenseManager for the events the
 * projections follow, `eth_getBlockByNumber` for headers. A purchase's snapshotted terms are read with `termsOf`
 * at the event's block (they never change afterwards; reading at that block also keeps a reorged-away license's
 * id from picking up another branch's terms).
 *
 * Claims: `claim`, `claimWithProofs` and `claimWithSig` emit `RoyaltiesClaimed`; `claimOne` emits nothing of its own
 * (1,756 gas of its 45k target), so its record is the payment token's `Transfer(manager, recipient, amount)`. Every
 * other transfer out of the manager (a refund, a reclaim, a sweep, the other claims) comes right after its own
 * event, so a `Transfer` from the manager whose preceding log (same block, index - 1) is not one of those events is
 * a `claimOne`, indexed as `RoyaltiesClaimed` with `recipient = to`. This holds for tokens whose `transfer` emits
 * `Transfer` as its first log (OpenZeppelin's ERC-20, USDC); a fee-on-transfer token is refused at purchase.
 */
export class EvmChainEventSource implements ChainEventSource {
  private readonly manager;

  constructor(
    private readonly provider: Provider,
    private readonly licenseManager: string,
    private readonly paymentToken: string,
  ) {
    this.manager = LicenseManager__abi.connect(licenseManager, provider);
  }

  private async rpc<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `The chain did not answer ${what}`, { cause: err });
    }
  }

  async head(): Promise<ChainBlock> {
    const b = await this.rpc('the latest block', () => this.provider.getBlock('latest'));
    if (!b?.hash) throw new DependencyError('CHAIN_UNAVAILABLE', 'The chain has no latest block');
    return { number: b.number, hash: b.hash, timestamp: b.timestamp };
  }

  async block(number: number): Promise<ChainBlock | undefined> {
    if (number < 0) return undefined;
    const b = await this.rpc(`block ${number}`, () => this.provider.getBlock(number));
    return b?.hash ? { number: b.number, hash: b.hash, timestamp: b.timestamp } : undefined;
  }

  async events(from: number, to: number): Promise<IndexedEvent[]> {
    const [logs, payouts] = await Promise.all([
      this.rpc(`eth_getLogs ${from}..${to}`, () =>
        this.provider.getLogs({ address: this.licenseManager, fromBlock: from, toBlock: to, topics: [[PURCHASED.topicHash, JOB_OPENED.topicHash, ACCRUED.topicHash, ...OUTFLOWS]] }),
      ),
      this.rpc(`eth_getLogs ${from}..${to} (payment token transfers out of the manager)`, () =>
        this.provider.getLogs({ address: this.paymentToken, fromBlock: from, toBlock: to, topics: [TRANSFER.topicHash, zeroPadValue(this.licenseManager, 32)] }),
      ),
    ]);
    const outflowAt = new Set(logs.filter((l) => OUTFLOWS.has(l.topics[0]!)).map((l) => `${l.blockHash}#${l.index}`));
    const claimOnes = payouts.filter((t) => !outflowAt.has(`${t.blockHash}#${t.index - 1}`));
    // The refund, reclaim and sweep events were fetched only to tell their transfers apart: none is indexed.
    const followed = logs.filter((l) => l.topics[0] === CLAIMED.topicHash || !OUTFLOWS.has(l.topics[0]!));
    const sorted = [...followed, ...claimOnes].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    // The reads a purchase needs (its terms, its block's timestamp) for all logs at once, a few in flight: one
    // round trip after another made the indexer several times slower than the getLogs it follows.
    const timestamps = new Map<number, Promise<number>>();
    const timestampOf = (n: number) => {
      let t = timestamps.get(n);
      if (t === undefined) timestamps.set(n, (t = this.block(n).then((b) => b?.timestamp ?? 0)));
      return t;
    };
    const parsedLogs = await mapLimit(sorted, RPC_CONCURRENCY, async (log): Promise<IndexedEvent | undefined> => {
      const position = { blockNumber: log.blockNumber, blockHash: log.blockHash, logIndex: log.index, txHash: log.transactionHash };
      if (log.address.toLowerCase() === this.paymentToken.toLowerCase()) return this.claimOneOf(log, position, await timestampOf(log.blockNumber));
      const parsed = LM.parseLog(log);
      if (!parsed) return undefined;
      if (parsed.name === 'JobOpened') {
        return { kind: 'JobOpened', ...position, jobId: String(parsed.args[0]), licenseId: String(parsed.args[1]), budget: String(parsed.args[2]), maxRatePerSecond: String(parsed.args[3]) };
      }
      if (parsed.name === 'RoyaltyAccrued') {
        return { kind: 'RoyaltyAccrued', ...position, datasetId: String(parsed.args[0]), jobId: String(parsed.args[1]), cumulativeSamples: String(parsed.args[2]), amount: String(parsed.args[3]), timestamp: await timestampOf(log.blockNumber) };
      }
      if (parsed.name === 'RoyaltiesClaimed') {
        return { kind: 'RoyaltiesClaimed', ...position, recipient: String(parsed.args[0]), to: String(parsed.args[1]), amount: String(parsed.args[2]), timestamp: await timestampOf(log.blockNumber) };
      }
      const licenseId = parsed.args[0] as bigint;
      const datasetIds = (parsed.args[4] as bigint[]).map((d) => d);
      const [terms, timestamp] = await Promise.all([
        Promise.all(
          datasetIds.map(async (d) => {
            const t = await this.rpc(`termsOf(${licenseId}, ${d})`, () => this.manager.termsOf(licenseId, d, { blockTag: log.blockNumber }));
            return { datasetId: String(d), pricePerSample: String(t.pricePerSample), totalUnits: String(t.totalUnits) };
          }),
        ),
        timestampOf(log.blockNumber),
      ]);
      return {
        kind: 'LicensePurchased',
        ...position,
        licenseId: String(licenseId),
        lab: String(parsed.args[1]),
        budget: String(parsed.args[2]),
        expiry: Number(parsed.args[3]),
        timestamp,
        terms,
      };
    });
    return parsedLogs.filter((e): e is IndexedEvent => e !== undefined);
  }

  /** A `claimOne`'s payout (see the class comment) as the `RoyaltiesClaimed` the other claims emit. */
  private claimOneOf(log: Log, position: LogPosition, timestamp: number): RoyaltiesClaimedEvent {
    const parsed = ERC20.parseLog(log);
    if (parsed?.name !== 'Transfer') throw new DependencyError('CHAIN_UNAVAILABLE', `The chain returned a log that is not a Transfer for a Transfer filter (${log.transactionHash})`);
    const recipient = String(parsed.args[1]);
    return { kind: 'RoyaltiesClaimed', ...position, recipient, to: recipient, amount: String(parsed.args[2]), timestamp };
  }
}
