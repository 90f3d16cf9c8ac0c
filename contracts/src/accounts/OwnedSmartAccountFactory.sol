// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {OwnedSmartAccount} from "./OwnedSmartAccount.sol";

/// @title OwnedSmartAccountFactory
/// @notice Deploys `OwnedSmartAccount`s at addresses known before deployment (CREATE2), so an AI agent can use its
/// account address, and sign for it with ERC-6492, before the account exists on chain.
contract OwnedSmartAccountFactory {
    /// @notice Emitted when an account is deployed.
    event AccountDeployed(address indexed account, address indexed owner, bytes32 salt);

    /// @notice The address `deploy(owner_, salt)` deploys to.
    function addressOf(address owner_, bytes32 salt) public view returns (address) {
        return Create2.computeAddress(salt, keccak256(abi.encodePacked(type(OwnedSmartAccount).creationCode, abi.encode(owner_))));
    }

    /// @notice Deploys the account for `owner_` and `salt`, or returns it when it already exists.
    function deploy(address owner_, bytes32 salt) external returns (address account) {
        account = addressOf(owner_, salt);
        if (account.code.length > 0) return account;
        account = address(new OwnedSmartAccount{salt: salt}(owner_));
        emit AccountDeployed(account, owner_, salt);
    }
}
