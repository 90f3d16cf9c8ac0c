// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A dataset's royalty split as submitted at registration. Exactly one form is used:
/// - explicit: `recipients` with `bps` summing to 10,000 (at most 32 recipients), `merkleRoot == 0`;
/// - Merkle: `merkleRoot` of OpenZeppelin StandardMerkleTree leaves `(address account, uint256 units)`
///   and `totalUnits` = the sum of all leaves' units; `recipients` and `bps` empty.
struct Split {
    address[] recipients;
    uint16[] bps;
    bytes32 merkleRoot;
    uint64 totalUnits;
}

/// @notice What a dataset owner submits to register a dataset.
struct Registration {
    string manifestCid;
    uint128 pricePerSample;
    Split split;
}

/// @notice A registered dataset as stored by the registry.
struct Dataset {
    address owner;
    uint64 version;
    bool listed;
    uint128 pricePerSample;
    uint64 totalUnits;
    bytes32 merkleRoot;
    string manifestCid;
}

/// @notice A training license: budget in escrow, not yet given to jobs, and its expiry.
struct License {
    uint96 budget;
    uint96 unallocated;
    uint40 expiry;
    uint40 purchasedAt;
}

/// @notice The terms a license fixed for one dataset at purchase (price never changes afterwards).
struct Terms {
    uint128 pricePerSample;
    uint64 totalUnits;
    bool licensed;
}

/// @notice A training job drawing on a license, as {ILicenseManager-getJob} returns it. `finalized`: the worker's
/// final report (with the receipt CID) landed; no report is accepted afterwards. (Stored differently: see
/// LicenseManager's `JobStorage`.)
struct Job {
    uint96 budget;
    uint96 spent;
    uint64 licenseId;
    uint96 maxRatePerSecond;
    uint40 startedAt;
    uint40 endedAt;
    uint40 expiry;
    bool refunded;
    bool finalized;
}

/// @notice Per job and dataset of a multi-dataset job: samples settled so far and the license's price, copied when
/// the job opens so that a report touches one slot per dataset (plus its pool).
struct JobDataset {
    uint96 settledSamples;
    uint96 pricePerSample;
}

/// @notice A cumulative usage report signed by an attested worker key (EIP-712 `UsageReport`).
/// `samples[i]` and `amounts[i]` are the totals since the job started for `datasetIds[i]`;
/// `amounts[i]` must equal `samples[i] * pricePerSample` of the license's terms.
struct UsageReport {
    uint256 jobId;
    uint256[] datasetIds;
    uint256[] samples;
    uint256[] amounts;
}

/// @notice A dataset's royalty pool: amount per unit (scaled by 1e18) and the carried division remainder.
struct Pool {
    uint192 accPerUnit;
    uint64 remainder;
}

/// @notice A recipient's position in one pool: its units (0 until known) and what it has claimed.
struct Position {
    uint64 units;
    uint192 claimed;
}

/// @notice Proof of a recipient's units in a Merkle split, used once per (dataset, recipient).
struct UnitsProof {
    uint256 datasetId;
    uint64 units;
    bytes32[] proof;
}
