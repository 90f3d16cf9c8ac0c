// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IRoyaltyPools} from "./interfaces/IRoyaltyPools.sol";
import {Errors} from "./libraries/Errors.sol";
import {Pool, Position, UnitsProof} from "./types/DataTypes.sol";

/// @title RoyaltyPools
/// @notice See {IRoyaltyPools}. The settlement side ({LicenseManager}) calls {_payIntoPool}; recipients pull.
abstract contract RoyaltyPools is IRoyaltyPools, EIP712, Nonces, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant CLAIM_TYPEHASH =
        keccak256("Claim(address recipient,uint256[] datasetIds,address to,uint256 nonce,uint256 deadline)");

    /// @dev A pool in one slot: everything paid in (raised by each report, the only write a report makes here) and
    /// its total units (snapshotted from the registry when first sold; the split is immutable). A recipient with
    /// `units` is entitled to `floor(units * paidIn / totalUnits)` in total, so a report never needs `totalUnits` and
    /// a claim reads this one slot. Solvency without a claimed total: the units held never sum to more than
    /// `totalUnits` (explicit bps sum to 10,000; Merkle proofs are capped, see {_proveUnits}; the owner's residual is
    /// the rest), so `sum(floor(units_i * paidIn / totalUnits)) <= paidIn` at every moment.
    struct PoolState {
        uint192 paidIn;
        uint64 totalUnits;
    }

    /// @dev Per Merkle pool: when proofs close (set at the pool's first sale), the units proven so far, and what the
    /// dataset owner swept of the residual (units of `totalUnits` no proven leaf holds).
    struct Residual {
        uint40 proofsCloseAt;
        uint64 provenUnits;
        uint152 claimed;
    }

    /// @notice How long after a Merkle pool's first sale its recipients may prove their units. Afterwards the units no
    /// proof claimed (a tree whose leaves sum to less than `totalUnits`, or recipients who never proved) are fixed,
    /// and their share goes to the dataset owner ({sweepResidual}) instead of staying locked.
    uint256 public constant MERKLE_PROOF_WINDOW = 365 days;

    IERC20 internal immutable _token;
    IDatasetRegistry internal immutable _registry;

    mapping(uint256 datasetId => PoolState) private _pools;
    mapping(uint256 datasetId => mapping(address account => Position)) private _positions;
    mapping(uint256 datasetId => Residual) private _residuals;

    constructor(IERC20 token, IDatasetRegistry registry) {
        _token = token;
        _registry = registry;
    }

    // ------------------------------------------------------------------------------------------ claims

    /// @inheritdoc IRoyaltyPools
    function claim(uint256[] calldata datasetIds) external nonReentrant returns (uint256 amount) {
        return _claim(msg.sender, msg.sender, datasetIds);
    }

    /// @inheritdoc IRoyaltyPools
    /// @dev The cheapest claim (issue 13: a repeat claim <= 45k gas in total), so it carries neither of the two
    /// things the others pay for:
    /// - No event of its own: the token's `Transfer(this, msg.sender, amount)` already says who received what, and
    ///   the indexer reads a claim from it (a payout of this contract with no outflow event of ours right before it;
    ///   see shared/adapters/chain/EvmChainEventSource.ts). `RoyaltiesClaimed` would repeat it for 1,756 gas.
    /// - No reentrancy lock: the position is rewritten before the one external call, and that call is the last thing
    ///   this function does, so a re-entry (a hooked token's receiver) finds every slot final: claiming again pays
    ///   nothing, and every other entry point sees exactly the state a later transaction would
    ///   (contracts/test/Tokens.test.ts re-enters it).
    function claimOne(uint256 datasetId) external returns (uint256 amount) {
        // Checks and effects
        amount = _settlePosition(datasetId, msg.sender);
        // Interactions
        if (amount != 0) _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IRoyaltyPools
    function claimWithProofs(UnitsProof[] calldata proofs, uint256[] calldata datasetIds)
        external
        nonReentrant
        returns (uint256 amount)
    {
        for (uint256 i; i < proofs.length; ++i) _proveUnits(msg.sender, proofs[i]);
        return _claim(msg.sender, msg.sender, datasetIds);
    }

    /// @inheritdoc IRoyaltyPools
    function claimWithSig(
        address recipient,
        UnitsProof[] calldata proofs,
        uint256[] calldata datasetIds,
        address to,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert Errors.RoyaltyPools_ZeroAddress();
        if (block.timestamp > deadline) revert Errors.RoyaltyPools_SignatureExpired(deadline);
        bytes32 structHash = keccak256(
            abi.encode(CLAIM_TYPEHASH, recipient, keccak256(abi.encodePacked(datasetIds)), to, _useNonce(recipient), deadline)
        );
        if (!SignatureChecker.isValidSignatureNow(recipient, _hashTypedDataV4(structHash), signature)) {
            revert Errors.RoyaltyPools_InvalidSignature(recipient);
        }
        for (uint256 i; i < proofs.length; ++i) _proveUnits(recipient, proofs[i]);
        return _claim(recipient, to, datasetIds);
    }

    /// @inheritdoc IRoyaltyPools
    function proveUnits(address account, UnitsProof calldata proof) external {
        _proveUnits(account, proof);
    }

    /// @inheritdoc IRoyaltyPools
    function sweepResidual(uint256 datasetId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert Errors.RoyaltyPools_ZeroAddress();
        Residual memory r = _residuals[datasetId];
        if (r.proofsCloseAt == 0) revert Errors.RoyaltyPools_NoMerklePool(datasetId);
        if (block.timestamp < r.proofsCloseAt) revert Errors.RoyaltyPools_ProofWindowOpen(datasetId, r.proofsCloseAt);
        address owner = _registry.datasetOwner(datasetId);
        if (msg.sender != owner) revert Errors.RoyaltyPools_NotDatasetOwner(datasetId, msg.sender);
        PoolState memory pool = _pools[datasetId];
        // Proofs are closed, so the residual units are final and the cumulative formula stays exact.
        uint256 residualUnits = r.provenUnits >= pool.totalUnits ? 0 : pool.totalUnits - r.provenUnits;
        uint256 entitled = _entitled(residualUnits, pool);
        amount = entitled - r.claimed;
        // Effects
        if (amount != 0) _residuals[datasetId].claimed = uint152(entitled); // <= paidIn, which fits uint152 in practice
        emit ResidualSwept(datasetId, to, residualUnits, amount);
        // Interactions
        if (amount != 0) _token.safeTransfer(to, amount);
    }

    // ------------------------------------------------------------------------------------------ views

    /// @inheritdoc IRoyaltyPools
    function residualOf(uint256 datasetId)
        external
        view
        returns (uint40 proofsCloseAt, uint64 provenUnits, uint256 swept)
    {
        Residual memory r = _residuals[datasetId];
        return (r.proofsCloseAt, r.provenUnits, r.claimed);
    }

    /// @inheritdoc IRoyaltyPools
    function claimable(uint256 datasetId, address account) external view returns (uint256) {
        Position memory position = _positions[datasetId][account];
        uint256 units = position.units != 0 ? position.units : _registry.explicitUnits(datasetId, account);
        return _entitled(units, _pools[datasetId]) - position.claimed;
    }

    /// @inheritdoc IRoyaltyPools
    function getPool(uint256 datasetId)
        external
        view
        returns (Pool memory pool, uint64 totalUnits, uint256 paidIn)
    {
        PoolState memory state = _pools[datasetId];
        (paidIn, totalUnits) = (state.paidIn, state.totalUnits);
        // The accumulator form (amount per unit scaled by 1e18, and the division's remainder) of the same pool:
        // `accPerUnit * totalUnits + remainder == 1e18 * paidIn` exactly.
        if (totalUnits != 0) {
            uint256 scaled = paidIn * 1e18;
            pool = Pool({accPerUnit: uint192(scaled / totalUnits), remainder: uint64(scaled % totalUnits)});
        }
    }

    /// @inheritdoc IRoyaltyPools
    function positionOf(uint256 datasetId, address account) external view returns (Position memory) {
        return _positions[datasetId][account];
    }

    /// @inheritdoc IRoyaltyPools
    function claimNonces(address recipient) external view returns (uint256) {
        return nonces(recipient);
    }

    // ------------------------------------------------------------------------------------------ internals

    /// @dev Records a pool's total units the first time one of its datasets is sold (the split is immutable), and for
    /// a Merkle split when its proof window closes.
    function _initPool(uint256 datasetId, uint64 totalUnits, bool merkle) internal {
        if (_pools[datasetId].totalUnits == 0) {
            _pools[datasetId].totalUnits = totalUnits;
            if (merkle) _residuals[datasetId].proofsCloseAt = uint40(block.timestamp + MERKLE_PROOF_WINDOW);
        }
    }

    /// @dev O(1) in the number of recipients: one slot read and written.
    function _payIntoPool(uint256 datasetId, uint256 amount) internal {
        PoolState storage pool = _pools[datasetId];
        pool.paidIn = SafeCast.toUint192(pool.paidIn + amount);
    }

    /// @dev What `units` are entitled to in total (claimed or not): `floor(units * paidIn / totalUnits)`. Units fit
    /// uint64 and `paidIn` uint192, so the product fits 256 bits (no 512-bit mulDiv needed).
    function _entitled(uint256 units, PoolState memory pool) private pure returns (uint256) {
        return pool.totalUnits == 0 ? 0 : units * pool.paidIn / pool.totalUnits;
    }

    function _proveUnits(address account, UnitsProof calldata proof) private {
        if (_positions[proof.datasetId][account].units != 0) return; // already known: proofs are one-time
        Residual storage residual = _residuals[proof.datasetId];
        uint256 closesAt = residual.proofsCloseAt;
        if (closesAt != 0 && block.timestamp >= closesAt) {
            revert Errors.RoyaltyPools_ProofWindowClosed(proof.datasetId, closesAt);
        }
        (,, uint64 totalUnits, bytes32 root) = _registry.saleTerms(proof.datasetId);
        if (proof.units == 0) revert Errors.RoyaltyPools_NotRecipient(proof.datasetId, account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, uint256(proof.units)))));
        if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof.proof, root, leaf)) {
            revert Errors.RoyaltyPools_InvalidProof(proof.datasetId, account);
        }
        // Capped: a tree whose leaves over-commit units (sum above `totalUnits`) gives its late provers only the units
        // left, and none once all are held, so the units held never exceed `totalUnits` and no pool can pay out more
        // than it received.
        uint64 proven = residual.provenUnits;
        if (proven >= totalUnits) revert Errors.RoyaltyPools_UnitsExhausted(proof.datasetId, account);
        uint64 units = proof.units < totalUnits - proven ? proof.units : totalUnits - proven;
        _positions[proof.datasetId][account].units = units;
        residual.provenUnits = proven + units;
        emit UnitsProven(proof.datasetId, account, units);
    }

    /// @dev Callers hold the reentrancy lock. Checks-effects-interactions: every position is written before the
    /// single transfer at the end.
    function _claim(address recipient, address to, uint256[] calldata datasetIds) private returns (uint256 total) {
        for (uint256 i; i < datasetIds.length; ++i) total += _settlePosition(datasetIds[i], recipient);
        emit RoyaltiesClaimed(recipient, to, total);
        // Interactions
        if (total != 0) _token.safeTransfer(to, total);
    }

    /// @dev Checks and effects of one dataset's claim; returns what the recipient is owed there. Reads the position and
    /// the pool (one slot each) and rewrites the position in one store: the least a claim can touch here. The slots
    /// are addressed in assembly (Solidity's mapping layout: `keccak256(key . slot)`, nested keys outermost first),
    /// which is what {claimOne}'s <= 45k gas needed; the Solidity views ({claimable}) read the same slots.
    function _settlePosition(uint256 datasetId, address recipient) private returns (uint256 owed) {
        // Checks
        uint256 slot;
        uint256 position; // Position {uint64 units; uint192 claimed}: units in the low 64 bits
        uint256 pool; // PoolState {uint192 paidIn; uint64 totalUnits}: paidIn in the low 192 bits
        assembly ("memory-safe") {
            mstore(0x00, datasetId)
            mstore(0x20, _positions.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, and(recipient, 0xffffffffffffffffffffffffffffffffffffffff))
            slot := keccak256(0x00, 0x40)
            position := sload(slot)
            mstore(0x00, datasetId)
            mstore(0x20, _pools.slot)
            pool := sload(keccak256(0x00, 0x40))
        }
        uint256 units = uint64(position);
        if (units == 0) {
            units = _registry.explicitUnits(datasetId, recipient);
            if (units == 0) revert Errors.RoyaltyPools_NotRecipient(datasetId, recipient);
        }
        uint256 totalUnits = pool >> 192;
        if (totalUnits == 0) return 0; // never sold: nothing paid in
        // units < 2^64 and paidIn < 2^192: the product cannot overflow. Entitlements only grow (paidIn never falls,
        // units and totalUnits never change once set), so entitled >= claimed; the subtraction stays checked anyway.
        uint256 entitled;
        unchecked {
            entitled = units * uint192(pool) / totalUnits;
        }
        owed = entitled - (position >> 64);
        if (owed == 0) return 0;
        // Effects: Position{units, claimed} in one store (units in the low 64 bits; entitled <= paidIn < 2^192)
        assembly ("memory-safe") {
            sstore(slot, or(units, shl(64, entitled)))
        }
    }
}
