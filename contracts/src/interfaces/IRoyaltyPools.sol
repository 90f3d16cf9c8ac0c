// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pool, Position, UnitsProof} from "../types/DataTypes.sol";

/// @title IRoyaltyPools
/// @notice Per-dataset royalty pools. Settlement raises a pool's total paid in, in O(1) whatever the number of
/// recipients; each recipient pulls `floor(units * paidIn / totalUnits) - claimed`. Explicit splits read units from
/// the registry; Merkle splits prove `(account, units)` once, after which claims need no proof.
interface IRoyaltyPools {
    /// @notice Emitted when a Merkle recipient's units were proven and stored.
    event UnitsProven(uint256 indexed datasetId, address indexed account, uint64 units);
    /// @notice Emitted when `recipient` claimed `amount` in total across datasets, sent to `to`.
    event RoyaltiesClaimed(address indexed recipient, address indexed to, uint256 amount);
    /// @notice Emitted when a Merkle pool's residual (units no proof claimed) paid `amount` to `to`, named by the owner.
    event ResidualSwept(uint256 indexed datasetId, address indexed to, uint256 residualUnits, uint256 amount);

    /// @notice Claims the caller's royalties in every listed dataset and sends them to the caller.
    /// @dev Emits {RoyaltiesClaimed}. Requirements: the caller is a recipient of each dataset (explicit split, or
    /// units proven before). Reentrancy-guarded; pull only.
    /// @return amount The total sent.
    function claim(uint256[] calldata datasetIds) external returns (uint256 amount);

    /// @notice {claim} for one dataset, encoded for gas (no array, no event of its own, no lock).
    /// @dev Emits no {RoyaltiesClaimed}: the payment token's `Transfer` from this contract to the caller is its record
    /// (none when nothing is owed). Requirements: those of {claim}.
    /// @return amount What was sent to the caller.
    function claimOne(uint256 datasetId) external returns (uint256 amount);

    /// @notice Proves the caller's units in Merkle splits, then claims as {claim}.
    /// @dev Emits {UnitsProven} for each new proof and {RoyaltiesClaimed}.
    /// Requirements: each proof is valid for the caller against the dataset's Merkle root.
    function claimWithProofs(UnitsProof[] calldata proofs, uint256[] calldata datasetIds) external returns (uint256 amount);

    /// @notice Gasless claim: a relayer submits `recipient`'s EIP-712 `Claim` signature; funds go to `to`.
    /// @dev Emits as {claimWithProofs}. Consumes `recipient`'s nonce. ERC-1271 recipients are supported.
    /// Requirements: `block.timestamp <= deadline`; a valid signature over the current nonce; `to` is not zero.
    function claimWithSig(
        address recipient,
        UnitsProof[] calldata proofs,
        uint256[] calldata datasetIds,
        address to,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 amount);

    /// @notice Stores `account`'s units in a Merkle split; anyone may submit a valid proof. No-op when already stored.
    /// The units stored are capped so that all proven units never exceed the split's `totalUnits` (a tree whose
    /// leaves over-commit units gives its late provers what is left).
    /// @dev Emits {UnitsProven} (with the units stored). Requirements: a valid proof with non-zero units; units left
    /// (`RoyaltyPools_UnitsExhausted`); the pool's proof window (from its
    /// first sale, `MERKLE_PROOF_WINDOW`) has not closed. The same applies to the proofs {claimWithProofs} and
    /// {claimWithSig} carry.
    function proveUnits(address account, UnitsProof calldata proof) external;

    /// @notice Pays the dataset owner's residual of a Merkle pool to `to`: the share of `totalUnits` minus the units
    /// proven before the proof window closed (a tree whose leaves sum to less than `totalUnits`, or recipients who
    /// never proved), so nothing paid in stays locked forever. Cumulative: callable again as more is paid in.
    /// @dev Emits {ResidualSwept}. Requirements: caller is the dataset's current owner; `to` is not zero; the dataset
    /// has a sold Merkle pool whose proof window closed.
    function sweepResidual(uint256 datasetId, address to) external returns (uint256 amount);

    /// @notice A Merkle pool's proof deadline (0 when none: explicit split or never sold), units proven so far, and
    /// what the owner swept.
    function residualOf(uint256 datasetId) external view returns (uint40 proofsCloseAt, uint64 provenUnits, uint256 swept);

    /// @notice What `account` could claim now from `datasetId` (0 for a Merkle recipient whose units are not yet proven).
    function claimable(uint256 datasetId, address account) external view returns (uint256);

    /// @notice A pool's accumulator form (`accPerUnit = floor(1e18 * paidIn / totalUnits)` and the remainder), its
    /// total units and everything paid in. A recipient's entitlement is `floor(units * paidIn / totalUnits)`; what
    /// was claimed is in {positionOf} and {residualOf}.
    function getPool(uint256 datasetId) external view returns (Pool memory pool, uint64 totalUnits, uint256 paidIn);

    /// @notice `account`'s stored position in `datasetId`'s pool.
    function positionOf(uint256 datasetId, address account) external view returns (Position memory);

    /// @notice The next nonce `recipient` must sign for {claimWithSig}.
    function claimNonces(address recipient) external view returns (uint256);
}
