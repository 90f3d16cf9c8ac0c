import { ConflictError, ForbiddenError, ProvenaError, type DependencyError } from '../errors.js';
import type { ClaimBody, ClaimResult } from '../schemas/royalties.js';
import type { UnitsProof } from '../ports/RoyaltyChain.js';
import { positionsWithLeaves, type RoyaltyDeps } from './getRoyalties.js';

export interface ClaimRoyaltiesParameters {
  /** Checksummed recipient address (from the path): the signer of the `Claim`. */
  recipient: string;
  signed: ClaimBody;
}
export type ClaimRoyaltiesReturnType = ClaimResult;
/** `CLAIM_SIGNATURE_INVALID`, `CLAIM_EXPIRED` (ProvenaError), `ROYALTY_NOT_RECIPIENT`, `ROYALTY_NOTHING_TO_CLAIM`, `RELAYER_*`. */
export type ClaimRoyaltiesErrorType = ProvenaError | ForbiddenError | ConflictError | DependencyError;

/**
 * Relays a recipient's signed `Claim` (`claimWithSig`): gasless for the recipient, paid to `to`. The chain checks
 * the signature and consumes the recipient's nonce, so a claim takes effect at most once; the relayer's idempotency
 * key (from the call, signature included) makes a replayed request answer the first claim's result without a second
 * transaction.
 *
 * A Merkle recipient's first claim carries its proofs: the API reads them from the split's stored tree and the
 * relayed `claimWithSig` proves them before it claims (proofs are not part of the signed message: a valid proof
 * can only store the recipient's own units, which anyone may do). Later claims need none.
 *
 * A claim at the current nonce is checked first (nothing claimable, or a dataset that does not pay the address, is
 * refused before the relayer spends gas). One at an older nonce can only be a replay: the relayer answers it from its
 * journal, or the chain refuses it (`CLAIM_SIGNATURE_INVALID`). One at a future nonce can never be valid.
 */
export async function claimRoyalties(deps: RoyaltyDeps, params: ClaimRoyaltiesParameters): Promise<ClaimRoyaltiesReturnType> {
  const { recipient, signed } = params;
  const datasetIds = signed.datasetIds.map(BigInt);
  // Nonce and positions at one block: a claim that mined by then shows as a used nonce (a replay), one that did not
  // shows its datasets still claimable, so a retry racing its first submission is never refused as empty.
  const head = await deps.pools.latestBlock();
  const current = await deps.pools.claimNonce(recipient, head.number);
  const nonce = BigInt(signed.nonce);
  if (nonce > current) throw new ProvenaError('CLAIM_SIGNATURE_INVALID', `The claim carries nonce ${nonce}; the recipient's next claim nonce is ${current}`);
  let proofs: UnitsProof[] = [];
  if (nonce === current) {
    // The chain's clock, as claimWithSig checks it (the relayer would otherwise simulate an expired call).
    if (BigInt(signed.deadline) < BigInt(head.timestamp)) throw new ProvenaError('CLAIM_EXPIRED', 'The signed claim has expired: fetch new typed data and sign again');
    const read = await positionsWithLeaves(deps, recipient, datasetIds, head.number);
    const positions = read.positions;
    proofs = read.proofs;
    const stranger = positions.find((p) => p.units === 0n);
    if (stranger) throw new ForbiddenError('ROYALTY_NOT_RECIPIENT', `${recipient} is not a recipient of registry dataset ${stranger.datasetId}`);
    if (positions.every((p) => p.claimable === 0n)) throw new ConflictError('ROYALTY_NOTHING_TO_CLAIM', `${recipient} has nothing to claim now in these datasets`);
  }
  // Unproven Merkle leaves are proven in the same relayed call (claimWithSig proves, then claims).
  const mined = await deps.pools.relayClaim({ recipient, datasetIds, to: signed.to, deadline: BigInt(signed.deadline), signature: signed.signature, ...(proofs.length ? { proofs } : {}) });
  return { recipient: mined.recipient, to: mined.to, datasetIds: signed.datasetIds, amount: mined.amount.toString(), txHash: mined.txHash, blockNumber: mined.blockNumber };
}
