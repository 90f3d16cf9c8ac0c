// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ITokenReceivedHook} from "./ReentrantToken.sol";

/// @title ReentrantReceiver
/// @notice Test attacker: a recipient or lab contract that, when it receives tokens, calls back into `target` with
/// preset calldata (e.g. claim or refund again) and records whether the re-entry succeeded.
contract ReentrantReceiver is ITokenReceivedHook {
    address public attackTarget;
    bytes public attackData;
    uint256 public attempts;
    bool public lastReentrySucceeded;
    bytes public lastReentryError;

    function setAttack(address target_, bytes calldata data) external {
        attackTarget = target_;
        attackData = data;
    }

    /// @notice Acts as this contract (approve, purchase, claim ...).
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        return Address.functionCall(to, data);
    }

    function onTokenReceived(address, uint256) external {
        if (attackTarget == address(0) || attempts > 0) return;
        attempts += 1;
        (bool ok, bytes memory ret) = attackTarget.call(attackData);
        lastReentrySucceeded = ok;
        lastReentryError = ret;
    }
}
