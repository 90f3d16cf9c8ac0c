// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ClaimFloor
/// @notice Gas benchmark only (bench/gas.ts), never deployed: the least a repeat claim of one dataset can do with
/// the pool layout of {RoyaltyPools}: read the recipient's position and the pool (one cold slot each), rewrite the
/// position, emit `RoyaltiesClaimed` (optional, to price the event) and transfer the payment token. No reentrancy
/// guard, no registry fallback, no checks beyond the transfer's: what {RoyaltyPools-claimOne} costs above this is our
/// own code.
contract ClaimFloor {
    /// @dev keccak256("RoyaltiesClaimed(address,address,uint256)")
    bytes32 private constant CLAIMED = keccak256("RoyaltiesClaimed(address,address,uint256)");

    address private immutable _token;
    /// @dev Same shapes as RoyaltyPools: Position {uint64 units; uint192 claimed}, PoolState {uint192 paidIn; uint64 totalUnits}.
    mapping(uint256 datasetId => mapping(address account => uint256)) private _positions;
    mapping(uint256 datasetId => uint256) private _pools;

    constructor(address token) {
        _token = token;
    }

    /// @notice Sets a position and a pool (the bench's set-up).
    function seed(uint256 datasetId, address account, uint64 units, uint192 claimed, uint192 paidIn, uint64 totalUnits)
        external
    {
        _positions[datasetId][account] = uint256(units) | (uint256(claimed) << 64);
        _pools[datasetId] = uint256(paidIn) | (uint256(totalUnits) << 192);
    }

    /// @notice The floor of a repeat claim, with the `RoyaltiesClaimed` event.
    function claimOne(uint256 datasetId) external {
        _claim(datasetId, true);
    }

    /// @notice The same without the event.
    function claimOneWithoutEvent(uint256 datasetId) external {
        _claim(datasetId, false);
    }

    function _claim(uint256 datasetId, bool withEvent) private {
        mapping(address => uint256) storage positions = _positions[datasetId];
        uint256 pool = _pools[datasetId];
        address token = _token;
        bytes32 claimedTopic = CLAIMED;
        assembly ("memory-safe") {
            mstore(0x00, caller())
            mstore(0x20, positions.slot)
            let slot := keccak256(0x00, 0x40)
            let position := sload(slot)
            let units := and(position, 0xffffffffffffffff)
            let entitled := div(mul(units, and(pool, sub(shl(192, 1), 1))), shr(192, pool))
            let owed := sub(entitled, shr(64, position))
            sstore(slot, or(units, shl(64, entitled)))
            if withEvent {
                mstore(0x00, owed)
                log3(0x00, 0x20, claimedTopic, caller(), caller())
            }
            mstore(0x00, 0xa9059cbb) // transfer(address,uint256)
            mstore(0x20, caller())
            mstore(0x40, owed)
            if iszero(and(call(gas(), token, 0, 0x1c, 0x44, 0x00, 0x20), or(iszero(returndatasize()), eq(mload(0x00), 1)))) {
                revert(0, 0)
            }
            mstore(0x40, 0x80)
        }
    }
}
