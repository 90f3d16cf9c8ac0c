/**
 * Gasless registration: builds the EIP-712 `Registration` an owner signs for a listing, and relays the signed
 * message to `DatasetRegistry.registerWithSig` with the API's funded relayer key. The chain checks the owner's
 * signature (ECDSA or ERC-1271) and its nonce, so a relayed message registers at most once.
 */
import { Contract, NonceManager, Wallet, ZeroHash, getAddress, type Provider, type TypedDataDomain } from 'ethers';
import { DatasetRegistry__factory } from '../../../contracts/typechain/index.js';
import { REGISTRATION_TYPES, datasetRegistryDomain } from '../../../contracts/eip712.js';
import { ConflictError, DependencyError, ValidationError } from '../../errors.js';
import type { Dataset } from '../../schemas/dataset.js';

/** The typed data an owner signs to register a listing. */
export interface RegistrationTypedData {
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

/** Relays owner-signed registrations to the DatasetRegistry. */
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

  /** The message for `listing`, with the owner's current registry nonce and a deadline `ttlSeconds` ahead. */
  async typedData(listing: Dataset, nowSeconds: number, ttlSeconds = 3600): Promise<RegistrationTypedData> {
    const registry = new Contract(this.registryAddress, ['function nonces(address) view returns (uint256)'], this.provider);
    let nonce: bigint;
    try {
      nonce = (await registry.getFunction('nonces').staticCall(listing.owner)) as bigint;
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', 'Could not read the registry nonce', { cause: err });
    }
    return {
      domain: datasetRegistryDomain(this.chainId, this.registryAddress),
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
        nonce: nonce.toString(),
        deadline: String(nowSeconds + ttlSeconds),
      },
    };
  }

  /**
   * Submits `registerWithSig` for `listing` and returns the registry's dataset id. The message fields other
   * than nonce/deadline are rebuilt from the listing, so a signature over anything else fails on chain.
   */
  async relay(listing: Dataset, signed: { nonce: string; deadline: string; signature: string }): Promise<string> {
    if (!this.signer) throw new DependencyError('DEPENDENCY_FAILED', 'No relayer key is configured (PROVENA_RELAYER_KEY)');
    const registry = DatasetRegistry__factory.connect(this.registryAddress, this.signer);
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
    try {
      const tx = await registry.registerWithSig(registration, getAddress(listing.owner), BigInt(signed.deadline), signed.signature);
      const receipt = await tx.wait();
      for (const log of receipt?.logs ?? []) {
        const parsed = registry.interface.parseLog(log);
        if (parsed?.name === 'DatasetRegistered') return (parsed.args[0] as bigint).toString();
      }
      throw new DependencyError('DEPENDENCY_FAILED', 'registerWithSig emitted no DatasetRegistered event');
    } catch (err) {
      const reason = revertName(registry.interface, err);
      if (reason === 'DatasetRegistry_InvalidSignature') throw new ValidationError('The registration signature does not match this listing and owner', [{ path: ['body', 'signature'], message: reason }], err);
      if (reason === 'DatasetRegistry_SignatureExpired') throw new ValidationError('The registration deadline has passed', [{ path: ['body', 'deadline'], message: reason }], err);
      if (reason) throw new ConflictError('CONFLICT', `The registry refused the registration: ${reason}`, { cause: err });
      if (err instanceof DependencyError) throw err;
      throw new DependencyError('CHAIN_UNAVAILABLE', 'Could not submit the registration', { cause: err });
    }
  }
}

function revertName(iface: { parseError(data: string): { name: string } | null }, err: unknown): string | undefined {
  const data = (err as { data?: string; info?: { error?: { data?: string } } })?.data ?? (err as { info?: { error?: { data?: string } } })?.info?.error?.data;
  if (typeof data !== 'string' || data.length < 10) return undefined;
  try {
    return iface.parseError(data)?.name;
  } catch {
    return undefined;
  }
}
