// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pool} from "../types/DataTypes.sol";

/// @title PoolMath
/// @notice Accumulator math of a royalty pool. Paying `amount` into a pool of `totalUnits` raises the amount per
/// unit by `amount * SCALE / totalUnits`; the division remainder is carried into the next payment, so
/// `accPerUnit * totalUnits + remainder == SCALE * (sum of all payments)` holds exactly: nothing is lost or minted.
/// A recipient with `units` is entitled to `floor(units * accPerUnit / SCALE)`, which never exceeds its exact share.
library PoolMath {
    uint256 internal constant SCALE = 1e18;

    /// @notice The pool after `amount` is paid into it.
    function accrue(Pool memory pool, uint256 amount, uint256 totalUnits) internal pure returns (Pool memory) {
        uint256 numerator = amount * SCALE + pool.remainder;
        return Pool({
            accPerUnit: SafeCast.toUint192(uint256(pool.accPerUnit) + numerator / totalUnits),
            remainder: uint64(numerator % totalUnits) // < totalUnits <= type(uint64).max
        });
    }

    /// @notice Same as {accrue}, on storage: one slot read, one slot write.
    function accrueInStorage(Pool storage pool, uint256 amount, uint256 totalUnits) internal {
        uint256 numerator = amount * SCALE + pool.remainder;
        uint256 acc = uint256(pool.accPerUnit) + numerator / totalUnits;
        (pool.accPerUnit, pool.remainder) = (SafeCast.toUint192(acc), uint64(numerator % totalUnits));
    }

    /// @notice What `units` are entitled to in total at `accPerUnit` (claimed or not).
    function entitled(uint256 units, uint256 accPerUnit) internal pure returns (uint256) {
        return Math.mulDiv(units, accPerUnit, SCALE);
    }

    /// @notice Everything ever paid into the pool, recovered exactly from the accumulator.
    function paidIn(Pool memory pool, uint256 totalUnits) internal pure returns (uint256) {
        return (uint256(pool.accPerUnit) * totalUnits + pool.remainder) / SCALE;
    }
}
