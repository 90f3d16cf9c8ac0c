// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PoolMath} from "../libraries/PoolMath.sol";
import {Pool} from "../types/DataTypes.sol";

/// @title PoolMathHarness
/// @notice Exposes {PoolMath} to property-based tests through eth_call.
contract PoolMathHarness {
    /// @notice Pays `amounts` into a fresh pool of `totalUnits`, then returns the pool, what each of `units` is
    /// entitled to, and what the pool says was paid in.
    function run(uint256[] calldata amounts, uint256 totalUnits, uint256[] calldata units)
        external
        pure
        returns (Pool memory pool, uint256[] memory entitled, uint256 paidIn)
    {
        for (uint256 i; i < amounts.length; ++i) pool = PoolMath.accrue(pool, amounts[i], totalUnits);
        entitled = new uint256[](units.length);
        for (uint256 i; i < units.length; ++i) entitled[i] = PoolMath.entitled(units[i], pool.accPerUnit);
        paidIn = PoolMath.paidIn(pool, totalUnits);
    }
}
