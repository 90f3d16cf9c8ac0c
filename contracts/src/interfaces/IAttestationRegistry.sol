// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAttestationRegistry
/// @notice Records which worker keys an attestor (who verified the worker's enclave or attestation evidence) approved
/// to sign usage reports for a job, and the hash of the evidence each approval rests on.
/// @dev An approval says "this key is the attested worker of this job"; it does not say the job still runs. Usage
/// reports also need the job's report window open ({ILicenseManager-submitReport}), and key release also needs the
/// job open and funded ({ILicenseManager-isJobActive}), so an approval stops granting anything when its job ends.
interface IAttestationRegistry {
    /// @notice Emitted when `worker` was approved for `jobId` on the evidence hashing to `evidenceHash` (the hash the
    /// attestor published with the verified evidence document, so anyone can audit which evidence approved which key).
    event WorkerApproved(uint256 indexed jobId, address indexed worker, address indexed attestor, bytes32 evidenceHash);
    /// @notice Emitted when `worker`'s approval for `jobId` was revoked.
    event WorkerRevoked(uint256 indexed jobId, address indexed worker, address indexed attestor);

    /// @notice Approves `worker` to sign reports for `jobId`, on the verified evidence hashing to `evidenceHash`.
    /// A second approval of the same key replaces the recorded evidence hash.
    /// @dev Emits {WorkerApproved}. Requirements: caller has ATTESTOR_ROLE; `worker` and `evidenceHash` are not zero.
    function approveWorker(uint256 jobId, address worker, bytes32 evidenceHash) external;

    /// @notice Revokes `worker`'s approval for `jobId`; its later reports revert.
    /// @dev Emits {WorkerRevoked}. Requirements: caller has ATTESTOR_ROLE.
    function revokeWorker(uint256 jobId, address worker) external;

    /// @notice Whether `worker` may sign reports for `jobId` (approved and not revoked).
    function isApproved(uint256 jobId, address worker) external view returns (bool);

    /// @notice The hash of the evidence `worker`'s approval for `jobId` rests on; zero when not approved.
    function evidenceOf(uint256 jobId, address worker) external view returns (bytes32);
}
