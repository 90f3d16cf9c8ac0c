/**
 * Gasless registry writes. The API builds the EIP-712 message an owner signs to put a listing on the
 * DatasetRegistry (`Registration`) or to record its current manifest and price there (`Update`), and relays the
 * signed message (`registerWithSig` / `updateWithSig`) with its funded relayer key. The chain checks the owner's
 * signature (ECDSA or ERC-1271) and its per-owner nonce, so a relayed message takes effect at most once.
 */
import { Contract, NonceManager, Wallet, ZeroHash, getAddress, type Provider, type TypedDataDomain } from 'ethers';
import { DatasetRegistry__factory } from '../../../contracts/typechain/index.js';
import { REGISTRATION_TYPES, UPDATE_TYPES, datasetRegistryDomain } from '../../eip712.js';
import { ConflictError, DependencyError, ValidationError } from '../../errors.js';
import type { Dataset } from '../../schemas/dataset.js';

/** The typed data an owner signs: a first registration, or an update of a registered listing. */
export type RegistryTypedData =
  | {
      domain: TypedDataDomain;
      types: Record<string, { name: string; type: string }[]>;
      primaryType: 'Registration';
      message: {
        owner: string;
        manifestCid: string;
        pricePerSample: string;
        recipients: string[];
        bps: number[];
        merkleRoot: string;
        totalUnits: string;
        nonce: string;
        deadline: string;
      };
    }
  | {
      domain: TypedDataDomain;
      types: Record<string, { name: string; type: string }[]>;
      primaryType: 'Update';
      message: { datasetId: string; pricePerSample: string; manifestCid: string; nonce: string; deadline: string };
    };

/** What the owner sends back: the nonce and deadline of the message it signed, and the signature. */
export interface SignedRegistryMessage {
  nonce: string;
  deadline: string;
  signature: string;
}

/** Relays owner-signed registrations and updates to the DatasetRegistry. */
export class RegistryRelayer {
  private readonly signer: NonceManager | undefined;

  constructor(
    private readonly provider: Provider,
    private readonly chainId: number,
    readonly registryAddress: string,
    relayerKey: string | undefined,
  ) {
    this.signer = relayerKey ? new NonceManager(new Wallet(relayerKey, provider)) : undefined;
  }

  private async nonceOf(owner: string): Promise<bigint> {
    const registry = new Contract(this.registryAddress, ['function nonces(address) view returns (uint256)'], this.provider);
    try {
      return (await registry.getFunction('nonces').staticCall(owner)) as bigint;
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', 'Could not read the registry nonce', { cause: err });
    }
  }

  /**
   * The message for `listing`: a `Registration` if it has no registry id yet, else an `Update` to its current
   * manifest CID and price. Uses the owner's current registry nonce; valid for `ttlSeconds`.
   */
  async typedData(listing: Dataset, nowSeconds: number, ttlSeconds = 3600): Promise<RegistryTypedData> {
    const nonce = (await this.nonceOf(listing.owner)).toString();
    const deadline = String(nowSeconds + ttlSeconds);
    const domain = datasetRegistryDomain(this.chainId, this.registryAddress);
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
        recipients: listing.royaltySplit.map((r) => r.recipient),
        bps: listing.royaltySplit.map((r) => r.bps),
        merkleRoot: ZeroHash,
        totalUnits: '0',
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
    const registry = this.registry();
    const registration = {
      manifestCid: listing.manifestCid,
      pricePerSample: BigInt(listing.license.pricePerSample),
      split: {
        recipients: listing.royaltySplit.map((r) => r.recipient),
        bps: listing.royaltySplit.map((r) => r.bps),
        merkleRoot: ZeroHash,
        totalUnits: 0n,
      },
    };
    return this.send(registry, async () => {
      const tx = await registry.registerWithSig(registration, getAddress(listing.owner), BigInt(signed.deadline), signed.signature);
      const receipt = await tx.wait();
      for (const log of receipt?.logs ?? []) {
        const parsed = registry.interface.parseLog(log);
        if (parsed?.name === 'DatasetRegistered') return (parsed.args[0] as bigint).toString();
      }
      throw new DependencyError('DEPENDENCY_FAILED', 'registerWithSig emitted no DatasetRegistered event');
    });
  }

  /** Records the listing's current manifest CID and price on its registry entry (`updateWithSig`). */
  async relayUpdate(listing: Dataset & { chainDatasetId: string }, signed: SignedRegistryMessage): Promise<void> {
    const registry = this.registry();
    await this.send(registry, async () => {
      const tx = await registry.updateWithSig(BigInt(listing.chainDatasetId), BigInt(listing.license.pricePerSample), listing.manifestCid, BigInt(signed.deadline), signed.signature);
      await tx.wait();
    });
  }

  private registry() {
    if (!this.signer) throw new DependencyError('DEPENDENCY_FAILED', 'No relayer key is configured (PROVENA_RELAYER_KEY)');
    return DatasetRegistry__factory.connect(this.registryAddress, this.signer);
  }

  private async send<T>(registry: ReturnType<typeof DatasetRegistry__factory.connect>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const reason = revertName(registry.interface, err);
      if (reason === 'DatasetRegistry_InvalidSignature') throw new ValidationError('The signature does not match this listing and owner', [{ path: ['body', 'signature'], message: reason }], err);
      if (reason === 'DatasetRegistry_SignatureExpired') throw new ValidationError('The signed message has expired', [{ path: ['body', 'deadline'], message: reason }], err);
      if (reason) throw new ConflictError('CONFLICT', `The registry refused: ${reason}`, { cause: err });
      if (err instanceof DependencyError) throw err;
      throw new DependencyError('CHAIN_UNAVAILABLE', 'Could not submit to the registry', { cause: err });
    }
  }
}

function revertName(iface: { parseError(data: string): { name: string } | null }, err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } } } | undefined;
  const data = e?.data ?? e?.info?.error?.data;
  if (typeof data !== 'string' || data.length < 10) return undefined;
  try {
    return iface.parseError(data)?.name;
  } catch {
    return undefined;
  }
}
