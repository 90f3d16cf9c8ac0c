/**
 * Gasless registry writes ({@link RegistrySubmitter} on ethers). The API builds the EIP-712 message an owner signs
 * to put a listing on the DatasetRegistry (`Registration`) or to record its current manifest and price there
 * (`Update`), encodes the signed message as a `registerWithSig` / `updateWithSig` call and hands it to the
 * {@link Relayer}. The chain checks the owner's signature (ECDSA or ERC-1271) and its per-owner nonce, so a relayed
 * message takes effect at most once; the idempotency key (the signature's hash) makes a retried request return the
 * first transaction's result instead of sending a second one.
 */
import { Contract, ZeroHash, getAddress, keccak256, type Provider } from 'ethers';
import { DatasetRegistry__abi } from '../../../contracts/typechain/abis.js';
import { REGISTRATION_TYPES, UPDATE_TYPES, datasetRegistryDomain } from '../../eip712.js';
import { ConflictError, DependencyError, ProvenaError, ValidationError, hasCode } from '../../errors.js';
import type { RegistrySubmitter, RegistryTypedData, SignedRegistryMessage, Eip712Domain } from '../../ports/RegistrySubmitter.js';
import type { Relayer } from '../../ports/Relayer.js';
import type { RelayReceipt } from '../../schemas/relay.js';
import type { Dataset } from '../../schemas/dataset.js';

/** Relays owner-signed registrations and updates to the DatasetRegistry through a {@link Relayer}. */
export class RegistryRelayer implements RegistrySubmitter {
  private readonly iface = DatasetRegistry__abi.createInterface();

  /** `relayer` is undefined when no relayer key is configured: reads work, relaying fails. */
  constructor(
    private readonly provider: Provider,
    private readonly chainId: number,
    readonly registryAddress: string,
    private readonly relayer: Relayer | undefined,
  ) {}

  private async nonceOf(owner: string): Promise<bigint> {
    const registry = new Contract(this.registryAddress, ['function nonces(address) view returns (uint256)'], this.provider);
    try {
      return (await registry.getFunction('nonces').staticCall(owner)) as bigint;
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', 'Could not read the registry nonce', { cause: err });
    }
  }

  async typedData(listing: Dataset, nowSeconds: number, ttlSeconds = 3600): Promise<RegistryTypedData> {
    const nonce = (await this.nonceOf(listing.owner)).toString();
    const deadline = String(nowSeconds + ttlSeconds);
    const d = datasetRegistryDomain(this.chainId, this.registryAddress);
    const domain: Eip712Domain = { name: d.name as string, version: d.version as string, chainId: this.chainId, verifyingContract: this.registryAddress };
    if (listing.chainDatasetId) {
      return {
        domain,
        types: { Update: [...UPDATE_TYPES.Update] },
        primaryType: 'Update',
        message: { datasetId: listing.chainDatasetId, pricePerSample: listing.license.pricePerSample, manifestCid: listing.manifestCid, nonce, deadline },
      };
    }
    return {
      domain,
      types: { Registration: [...REGISTRATION_TYPES.Registration] },
      primaryType: 'Registration',
      message: {
        owner: listing.owner,
        manifestCid: listing.manifestCid,
        pricePerSample: listing.license.pricePerSample,
        ...registrySplit(listing, String),
        nonce,
        deadline,
      },
    };
  }

  /**
   * Registers `listing` (`registerWithSig`) and returns the registry's dataset id. The message fields other than
   * nonce/deadline are rebuilt from the listing, so a signature over anything else fails on chain.
   */
  async relay(listing: Dataset, signed: SignedRegistryMessage): Promise<string> {
    const registration = {
      manifestCid: listing.manifestCid,
      pricePerSample: BigInt(listing.license.pricePerSample),
      split: registrySplit(listing, BigInt),
    };
    const data = this.iface.encodeFunctionData('registerWithSig', [registration, getAddress(listing.owner), BigInt(signed.deadline), signed.signature]);
    const receipt = await this.send(data, `registry:register:${keccak256(signed.signature)}`);
    for (const log of receipt.logs) {
      if (getAddress(log.address) !== getAddress(this.registryAddress)) continue;
      const parsed = this.iface.parseLog(log);
      if (parsed?.name === 'DatasetRegistered') return (parsed.args[0] as bigint).toString();
    }
    throw new DependencyError('DEPENDENCY_FAILED', 'registerWithSig emitted no DatasetRegistered event');
  }

  async relayUpdate(listing: Dataset & { chainDatasetId: string }, signed: SignedRegistryMessage): Promise<void> {
    const data = this.iface.encodeFunctionData('updateWithSig', [BigInt(listing.chainDatasetId), BigInt(listing.license.pricePerSample), listing.manifestCid, BigInt(signed.deadline), signed.signature]);
    await this.send(data, `registry:update:${keccak256(signed.signature)}`);
  }

  /** Relays `data` to the registry and waits for it to mine; maps registry refusals to the API's errors. */
  private async send(data: string, idempotencyKey: string): Promise<RelayReceipt> {
    if (!this.relayer) throw new ProvenaError('RELAYER_NOT_CONFIGURED', 'No relayer key is configured (PROVENA_RELAYER_KEY)');
    let receipt: RelayReceipt;
    try {
      receipt = await (await this.relayer.submit({ to: getAddress(this.registryAddress), data, idempotencyKey })).wait();
    } catch (err) {
      throw this.refusal(err);
    }
    if (receipt.status !== 'success') throw new ProvenaError('RELAYER_REVERTED', `The registry call reverted on chain (${receipt.txHash})`, { details: { txHash: receipt.txHash } });
    return receipt;
  }

  private refusal(err: unknown): unknown {
    if (!hasCode(err, 'RELAYER_REVERTED')) return err;
    const details = (err.details ?? {}) as { errorName?: unknown; data?: unknown };
    const reason = typeof details.errorName === 'string' ? details.errorName : revertName(this.iface, details.data);
    if (reason === 'DatasetRegistry_InvalidSignature') return new ValidationError('The signature does not match this listing and owner', [{ path: ['body', 'signature'], message: reason }], err);
    if (reason === 'DatasetRegistry_SignatureExpired') return new ValidationError('The signed message has expired', [{ path: ['body', 'deadline'], message: reason }], err);
    if (reason) return new ConflictError('CONFLICT', `The registry refused: ${reason}`, { cause: err });
    return err;
  }
}

function revertName(iface: { parseError(data: string): { name: string } | null }, data: unknown): string | undefined {
  if (typeof data !== 'string' || data.length < 10) return undefined;
  try {
    return iface.parseError(data)?.name;
  } catch {
    return undefined;
  }
}

/**
 * The registry's `split` of a listing: its explicit recipients and bps, or its Merkle root and total units (the
 * registry takes one or the other). `units` renders `totalUnits` (a decimal string in typed data, a bigint in calls).
 */
function registrySplit<T>(listing: Dataset, units: (v: string) => T): { recipients: string[]; bps: number[]; merkleRoot: string; totalUnits: T } {
  if (listing.merkleSplit) return { recipients: [], bps: [], merkleRoot: listing.merkleSplit.root, totalUnits: units(listing.merkleSplit.totalUnits) };
  return { recipients: listing.royaltySplit.map((r) => r.recipient), bps: listing.royaltySplit.map((r) => r.bps), merkleRoot: ZeroHash, totalUnits: units('0') };
}
