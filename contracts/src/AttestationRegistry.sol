// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {Errors} from "./libraries/Errors.sol";

/// @title AttestationRegistry
/// @notice See {IAttestationRegistry}. The attestor (an off-chain service that verified the worker's attestation
/// evidence) holds ATTESTOR_ROLE; the admin does not, unless it grants the role to itself (an on-chain, observable
/// `RoleGranted`: see the trust assumptions in contracts/README.md).
contract AttestationRegistry is IAttestationRegistry, AccessControl {
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");

    /// @dev The hash of the evidence that approved the key; zero = not approved.
    mapping(uint256 jobId => mapping(address worker => bytes32 evidenceHash)) private _evidence;

    /// @param admin Gets DEFAULT_ADMIN_ROLE (role management) only.
    /// @param attestor Gets ATTESTOR_ROLE; may be zero (grant it later).
    constructor(address admin, address attestor) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (attestor != address(0)) _grantRole(ATTESTOR_ROLE, attestor);
    }

    /// @inheritdoc IAttestationRegistry
    function approveWorker(uint256 jobId, address worker, bytes32 evidenceHash) external onlyRole(ATTESTOR_ROLE) {
        if (worker == address(0)) revert Errors.AttestationRegistry_ZeroWorker();
        if (evidenceHash == bytes32(0)) revert Errors.AttestationRegistry_ZeroEvidence();
        _evidence[jobId][worker] = evidenceHash;
        emit WorkerApproved(jobId, worker, msg.sender, evidenceHash);
    }

    /// @inheritdoc IAttestationRegistry
    function revokeWorker(uint256 jobId, address worker) external onlyRole(ATTESTOR_ROLE) {
        delete _evidence[jobId][worker];
        emit WorkerRevoked(jobId, worker, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function isApproved(uint256 jobId, address worker) external view returns (bool) {
        return _evidence[jobId][worker] != bytes32(0);
    }

    /// @inheritdoc IAttestationRegistry
    function evidenceOf(uint256 jobId, address worker) external view returns (bytes32) {
        return _evidence[jobId][worker];
    }
}
