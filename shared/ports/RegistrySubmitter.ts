import type { Dataset } from '../schemas/dataset.js';

/** An EIP-712 domain as plain JSON (what the owner's wallet signs over). */
export interface Eip712Domain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: string;
}

/** The typed data an owner signs: a first registration, or an update of a registered listing. */
export type RegistryTypedData =
  | {
      domain: Eip712Domain;
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
      domain: Eip712Domain;
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

/**
 * Gasless writes to the DatasetRegistry: builds the message an owner signs and submits the signed message through
 * the relayer. A signed message takes effect at most once (the registry checks the owner's nonce), and submitting
 * the same signature twice sends one transaction.
 *
 * Errors: `VALIDATION_FAILED` (bad or expired signature), `CONFLICT` (another registry refusal),
 * `RELAYER_*` (see the Relayer port), `CHAIN_UNAVAILABLE`.
 */
export interface RegistrySubmitter {
  /**
   * The message for `listing`: a `Registration` if it has no registry id yet, else an `Update` to its current
   * manifest CID and price, with the owner's current registry nonce, valid for `ttlSeconds` (default 3600).
   */
  typedData(listing: Dataset, nowSeconds: number, ttlSeconds?: number): Promise<RegistryTypedData>;
  /** Registers `listing` (`registerWithSig`) and returns the registry's dataset id. */
  relay(listing: Dataset, signed: SignedRegistryMessage): Promise<string>;
  /** Records the listing's current manifest CID and price on its registry entry (`updateWithSig`). */
  relayUpdate(listing: Dataset & { chainDatasetId: string }, signed: SignedRegistryMessage): Promise<void>;
}
