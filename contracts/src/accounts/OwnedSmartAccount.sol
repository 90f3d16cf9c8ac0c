// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title OwnedSmartAccount
/// @notice A minimal contract wallet for AI agents: one EOA owner signs for it, and it answers ERC-1271
/// `isValidSignature` so off-chain services (the Provena API) can verify the agent's requests.
/// @dev The owner's signature is over the digest the verifier passes in; OZ's ECDSA rejects high-s values.
contract OwnedSmartAccount is IERC1271 {
    error OwnedSmartAccount_NotOwner(address caller);

    address private immutable _owner;

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice The EOA whose signatures this account accepts.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && signer == _owner) {
            return IERC1271.isValidSignature.selector;
        }
        return 0xffffffff;
    }

    /// @notice Lets the owner make the account act (approve tokens, buy licenses).
    function execute(address target, uint256 value, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != _owner) revert OwnedSmartAccount_NotOwner(msg.sender);
        return Address.functionCallWithValue(target, data, value);
    }

    receive() external payable {}
}
