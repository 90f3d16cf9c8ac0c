// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {Errors} from "./libraries/Errors.sol";

/// @title AttestationRegistry
/// @notice See {IAttestationRegistry}. The attestor (an off-chain service that verified the worker's attestation)
/// holds ATTESTOR_ROLE; the deployer is admin.
contract AttestationRegistry is IAttestationRegistry, AccessControl {
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");

    mapping(uint256 jobId => mapping(address worker => bool)) private _approved;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ATTESTOR_ROLE, admin);
    }

    /// @inheritdoc IAttestationRegistry
    function approveWorker(uint256 jobId, address worker) external onlyRole(ATTESTOR_ROLE) {
        if (worker == address(0)) revert Errors.AttestationRegistry_ZeroWorker();
        _approved[jobId][worker] = true;
        emit WorkerApproved(jobId, worker, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function revokeWorker(uint256 jobId, address worker) external onlyRole(ATTESTOR_ROLE) {
        _approved[jobId][worker] = false;
        emit WorkerRevoked(jobId, worker, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function isApproved(uint256 jobId, address worker) external view returns (bool) {
        return _approved[jobId][worker];
    }
}
