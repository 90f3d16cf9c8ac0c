// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ConditionTarget
/// @notice Test-only stand-in for the license and attestation views the key gate's access conditions call
///         (shared/ports/AccessConditions.ts). Lets the condition evaluator be tested with real eth_calls
///         before the production contracts expose every view. Never deployed outside tests.
contract ConditionTarget {
    struct License {
        address holder;
        uint40 expiry;
        uint256[] datasetIds;
    }

    error ConditionTarget_NoSuchLicense(uint256 licenseId);

    mapping(uint256 licenseId => License) private _licenses;
    mapping(uint256 jobId => uint256 licenseId) private _jobLicense;
    mapping(uint256 jobId => mapping(address worker => bool)) private _approved;

    /// @notice Records a license (test setup).
    function setLicense(uint256 licenseId, address holder, uint40 expiry, uint256[] calldata datasetIds) external {
        _licenses[licenseId] = License(holder, expiry, datasetIds);
    }

    /// @notice Records a job under a license and approves (or not) a worker for it (test setup).
    function setJob(uint256 jobId, uint256 licenseId, address worker, bool approved) external {
        _jobLicense[jobId] = licenseId;
        _approved[jobId][worker] = approved;
    }

    /// @notice ERC-721 style owner; reverts for an unknown license like ERC-721 does.
    function ownerOf(uint256 licenseId) external view returns (address) {
        address holder = _licenses[licenseId].holder;
        if (holder == address(0)) revert ConditionTarget_NoSuchLicense(licenseId);
        return holder;
    }

    function datasetsOf(uint256 licenseId) external view returns (uint256[] memory) {
        return _licenses[licenseId].datasetIds;
    }

    function isLicenseActive(uint256 licenseId) public view returns (bool) {
        License storage l = _licenses[licenseId];
        return l.holder != address(0) && l.expiry > block.timestamp;
    }

    /// @notice True when the holder has an active license covering the dataset. Scans licenses 1..32 (test only).
    function hasValidLicense(address holder, uint256 datasetId) external view returns (bool) {
        for (uint256 id = 1; id <= 32; ++id) {
            License storage l = _licenses[id];
            if (l.holder != holder || !isLicenseActive(id)) continue;
            for (uint256 i = 0; i < l.datasetIds.length; ++i) {
                if (l.datasetIds[i] == datasetId) return true;
            }
        }
        return false;
    }

    function isApproved(uint256 jobId, address worker) external view returns (bool) {
        return _approved[jobId][worker];
    }

    function datasetsOfJob(uint256 jobId) external view returns (uint256[] memory) {
        return _licenses[_jobLicense[jobId]].datasetIds;
    }
}
