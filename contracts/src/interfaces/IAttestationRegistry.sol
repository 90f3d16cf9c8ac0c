// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAttestationRegistry
/// @notice Records which worker keys an attestor (who verified the worker's enclave or attestation report) approved
/// to sign usage reports for a job.
interface IAttestationRegistry {
    /// @notice Emitted when `worker` was approved for `jobId`.
    event WorkerApproved(uint256 indexed jobId, address indexed worker, address indexed attestor);
    /// @notice Emitted when `worker`'s approval for `jobId` was revoked.
    event WorkerRevoked(uint256 indexed jobId, address indexed worker, address indexed attestor);

    /// @notice Approves `worker` to sign reports for `jobId`.
    /// @dev Emits {WorkerApproved}. Requirements: caller has ATTESTOR_ROLE; `worker` is not zero.
    function approveWorker(uint256 jobId, address worker) external;

    /// @notice Revokes `worker`'s approval for `jobId`; its later reports revert.
    /// @dev Emits {WorkerRevoked}. Requirements: caller has ATTESTOR_ROLE.
    function revokeWorker(uint256 jobId, address worker) external;

    /// @notice Whether `worker` may sign reports for `jobId`.
    function isApproved(uint256 jobId, address worker) external view returns (bool);
}
