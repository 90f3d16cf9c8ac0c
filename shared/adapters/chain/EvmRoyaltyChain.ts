/**
 * {@link RoyaltyChain} on ethers: the LicenseManager's pool views (`claimable`, `positionOf`) and the registry's
 * `explicitUnits`, read at one block, and gasless claims encoded as `claimWithSig` and handed to the {@link Relayer}
 * with an idempotency key derived from the signature, so a retried claim mines once and answers the same result.
 */
import { getAddress, keccak256, type Provider } from 'ethers';
import { DatasetRegistry__abi, LicenseManager__abi } from '../../../contracts/typechain/abis.js';
import { licenseManagerDomain } from '../../eip712.js';
import { DependencyError, ForbiddenError, ProvenaError, hasCode } from '../../errors.js';
import type { Eip712Domain } from '../../ports/RegistrySubmitter.js';
import type { Relayer } from '../../ports/Relayer.js';
import type { MinedClaim, PoolPosition, RegistrySplit, RoyaltyChain, SignedClaim } from '../../ports/RoyaltyChain.js';
import type { RelayReceipt } from '../../schemas/relay.js';

/**
 * Reads the pools and relays claims. `relayer` undefined: reads work, claims answer `RELAYER_NOT_CONFIGURED`.
 * Give it a provider without ethers' request cache (`cacheTimeout: -1`): with the default, a `latest` read repeated
 * within 250 ms answers the cached block, so a figure read right after a claim mined would be stale.
 */
export class EvmRoyaltyChain implements RoyaltyChain {
  private readonly manager;
  private readonly registry;
  private readonly iface = LicenseManager__abi.createInterface();

  constructor(
    private readonly provider: Provider,
    private readonly chainId: number,
    readonly licenseManagerAddress: string,
    registryAddress: string,
    private readonly relayer: Relayer | undefined,
  ) {
    this.manager = LicenseManager__abi.connect(licenseManagerAddress, provider);
    this.registry = DatasetRegistry__abi.connect(registryAddress, provider);
  }

  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `Could not read ${what} from the chain`, { cause: err });
    }
  }

  latestBlock(): Promise<{ number: number; timestamp: number }> {
    return this.read('the latest block', async () => {
      const block = await this.provider.getBlock('latest');
      if (!block) throw new Error('no latest block');
      return { number: block.number, timestamp: block.timestamp };
    });
  }

  positions(recipient: string, datasetIds: readonly bigint[], blockTag: number, treeUnits?: readonly (bigint | undefined)[]): Promise<PoolPosition[]> {
    const at = { blockTag };
    return this.read('royalty positions', () =>
      Promise.all(
        datasetIds.map(async (datasetId, i) => {
          const [position, claimable, explicitUnits] = await Promise.all([
            this.manager.positionOf.staticCall(datasetId, recipient, at),
            this.manager.claimable.staticCall(datasetId, recipient, at),
            this.registry.explicitUnits.staticCall(datasetId, recipient, at),
          ]);
          const units = position.units !== 0n ? position.units : explicitUnits;
          const fromTree = treeUnits?.[i];
          if (units !== 0n || !fromTree) return { datasetId, units, claimed: position.claimed, claimable };
          // A Merkle recipient not yet proven: the contract's own formula (RoyaltyPools._settlePosition,
          // floor(units x paidIn / totalUnits)) over its tree units.
          const [, totalUnits, paidIn] = await this.manager.getPool.staticCall(datasetId, at);
          return { datasetId, units: fromTree, claimed: 0n, claimable: totalUnits === 0n ? 0n : (fromTree * paidIn) / totalUnits, unproven: true };
        }),
      ),
    );
  }

  registrySplits(datasetIds: readonly bigint[], blockTag?: number): Promise<RegistrySplit[]> {
    const at = blockTag === undefined ? {} : { blockTag };
    return this.read('registered splits', () =>
      Promise.all(
        datasetIds.map(async (datasetId) => {
          const [, , totalUnits, merkleRoot] = await this.registry.saleTerms.staticCall(datasetId, at);
          return { datasetId, merkleRoot, totalUnits };
        }),
      ),
    );
  }

  pools(datasetIds: readonly bigint[], blockTag: number): Promise<{ datasetId: bigint; totalUnits: bigint; paidIn: bigint }[]> {
    return this.read('royalty pools', () =>
      Promise.all(
        datasetIds.map(async (datasetId) => {
          const [, totalUnits, paidIn] = await this.manager.getPool.staticCall(datasetId, { blockTag });
          return { datasetId, totalUnits, paidIn };
        }),
      ),
    );
  }

  activeJobs(jobIds: readonly bigint[], blockTag: number): Promise<boolean[]> {
    return this.read('job states', () => Promise.all(jobIds.map((j) => this.manager.isJobActive.staticCall(j, { blockTag }))));
  }

  claimNonce(recipient: string, blockTag?: number): Promise<bigint> {
    return this.read('the claim nonce', () => this.manager.claimNonces.staticCall(recipient, blockTag === undefined ? {} : { blockTag }));
  }

  claimDomain(): Eip712Domain {
    const d = licenseManagerDomain(this.chainId, this.licenseManagerAddress);
    return { name: d.name as string, version: d.version as string, chainId: this.chainId, verifyingContract: getAddress(this.licenseManagerAddress) };
  }

  async relayClaim(claim: SignedClaim): Promise<MinedClaim> {
    if (!this.relayer) throw new ProvenaError('RELAYER_NOT_CONFIGURED', 'No relayer key is configured (PROVENA_RELAYER_KEY)');
    // Merkle proofs ride in the same call (the use case reads them from the split's stored tree); already-proven
    // leaves are skipped by the contract, so a replay with proofs is the same call.
    const proofs = (claim.proofs ?? []).map((p) => ({ datasetId: p.datasetId, units: p.units, proof: p.proof }));
    const data = this.iface.encodeFunctionData('claimWithSig', [getAddress(claim.recipient), proofs, claim.datasetIds, getAddress(claim.to), claim.deadline, claim.signature]);
    let receipt: RelayReceipt;
    try {
      const handle = await this.relayer.submit({ to: getAddress(this.licenseManagerAddress), data, idempotencyKey: `royalties:claim:${keccak256(claim.signature)}` });
      receipt = await handle.wait();
    } catch (err) {
      throw this.refusal(err);
    }
    if (receipt.status !== 'success') throw new ProvenaError('RELAYER_REVERTED', `The claim reverted on chain (${receipt.txHash})`, { details: { txHash: receipt.txHash } });
    for (const log of receipt.logs) {
      if (getAddress(log.address) !== getAddress(this.licenseManagerAddress)) continue;
      const parsed = this.iface.parseLog(log);
      if (parsed?.name === 'RoyaltiesClaimed') {
        return { recipient: parsed.args[0] as string, to: parsed.args[1] as string, amount: parsed.args[2] as bigint, txHash: receipt.txHash, blockNumber: receipt.blockNumber };
      }
    }
    throw new DependencyError('DEPENDENCY_FAILED', `claimWithSig emitted no RoyaltiesClaimed event (${receipt.txHash})`);
  }

  /** Maps the contract's refusals (seen when the relayer simulates the call) to the API's codes. */
  private refusal(err: unknown): unknown {
    if (!hasCode(err, 'RELAYER_REVERTED')) return err;
    const details = (err.details ?? {}) as { errorName?: unknown; data?: unknown };
    const reason = typeof details.errorName === 'string' ? details.errorName : this.revertName(details.data);
    if (reason === 'RoyaltyPools_InvalidSignature') {
      return new ProvenaError('CLAIM_SIGNATURE_INVALID', "The signature is not the recipient's over this claim and its current nonce", { cause: err, details: { reason } });
    }
    if (reason === 'RoyaltyPools_SignatureExpired') return new ProvenaError('CLAIM_EXPIRED', 'The signed claim has expired: fetch new typed data and sign again', { cause: err, details: { reason } });
    if (reason === 'RoyaltyPools_NotRecipient') return new ForbiddenError('ROYALTY_NOT_RECIPIENT', 'The address is not a recipient of every dataset in the claim', { cause: err, details: { reason } });
    return err;
  }

  private revertName(data: unknown): string | undefined {
    if (typeof data !== 'string' || data.length < 10) return undefined;
    try {
      return this.iface.parseError(data)?.name;
    } catch {
      return undefined;
    }
  }
}
