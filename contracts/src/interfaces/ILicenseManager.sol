// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRoyaltyPools} from "./IRoyaltyPools.sol";
import {Job, License, Terms, UsageReport} from "../types/DataTypes.sol";

/// @title ILicenseManager
/// @notice Sells training licenses (budget held in escrow, terms snapshotted), runs training jobs that draw on them,
/// settles signed cumulative usage reports into royalty pools, and refunds unused budget after a grace period.
interface ILicenseManager is IRoyaltyPools {
    /// @notice Emitted when `lab` bought license `licenseId`.
    event LicensePurchased(uint256 indexed licenseId, address indexed lab, uint256 budget, uint40 expiry, uint256[] datasetIds);
    /// @notice Emitted when job `jobId` was opened on `licenseId`.
    event JobOpened(uint256 indexed jobId, uint256 indexed licenseId, uint256 budget, uint256 maxRatePerSecond);
    /// @notice Emitted for each dataset a report paid for: `cumulativeSamples` is the job's new total for it.
    event RoyaltyAccrued(uint256 indexed datasetId, uint256 indexed jobId, uint256 cumulativeSamples, uint256 amount);
    /// @notice Emitted when the lab ended job `jobId`.
    event JobEnded(uint256 indexed jobId, uint40 endedAt);
    /// @notice Emitted when a job's unused budget was refunded to the license holder.
    event JobRefunded(uint256 indexed jobId, address indexed to, uint256 amount);
    /// @notice Emitted when the worker's final report anchored the job's receipt: `receiptCid` is the IPFS CID of the
    /// receipt the attested key `worker` signed (also part of the signed `FinalReport`).
    event JobFinalized(uint256 indexed jobId, address indexed worker, string receiptCid);
    /// @notice Emitted when the license's budget not given to any job was returned to its holder.
    event UnallocatedReclaimed(uint256 indexed licenseId, address indexed to, uint256 amount);

    /// @notice Buys a license for `datasetIds` with `budget` of the payment token, pulled from the caller into escrow.
    /// @dev Emits {LicensePurchased}; mints the license NFT to the caller.
    /// `maxPricesPerSample[i]` caps the price the buyer accepts for `datasetIds[i]`: a price raised after the buyer
    /// looked (a dataset owner front-running the purchase) reverts instead of being snapshotted.
    /// Requirements: not paused; 1..32 distinct listed datasets; one maximum price per dataset; each registry price
    /// <= its maximum and <= type(uint96).max; 0 < budget <= type(uint96).max; `expiry > block.timestamp`; the token
    /// delivers exactly `budget` (fee-on-transfer tokens revert).
    function purchase(uint256[] calldata datasetIds, uint256[] calldata maxPricesPerSample, uint256 budget, uint40 expiry)
        external
        returns (uint256 licenseId);

    /// @notice Opens a training job drawing `budget` from the license, draining at most `maxRatePerSecond`.
    /// @dev Emits {JobOpened}. Requirements: caller holds the license; the license has not expired;
    /// `budget` <= the license's unallocated budget; `maxRatePerSecond > 0`.
    function openJob(uint256 licenseId, uint256 budget, uint256 maxRatePerSecond) external returns (uint256 jobId);

    /// @notice Settles a cumulative usage report signed by a worker key approved for the job; anyone may submit.
    /// Pays, per dataset, only the increase over the job's last settled total into the dataset's pool; replayed or
    /// stale reports pay nothing.
    /// @dev Emits {RoyaltyAccrued} for each dataset paid. No token moves.
    /// Requirements: the job exists; the lab has not ended it ({endJob}: `LicenseManager_JobEnded`, also for a report
    /// signed or relayed before the cancel but mined after it); its report window (license expiry plus the grace
    /// period) is open; the job is not finalized; the signature recovers to a key the attestation registry approved for
    /// `report.jobId`; every dataset is licensed and `amounts[i] == samples[i] * price`; the job's total stays within
    /// its budget and within `maxRatePerSecond * (min(now, end) - startedAt + 1)` (the opening second counts, so a
    /// report mined in the same second as {openJob} settles up to one second's worth instead of reverting).
    /// @return paid The amount paid into pools by this report.
    function submitReport(UsageReport calldata report, bytes calldata signature) external returns (uint256 paid);

    /// @notice {submitReport} for one dataset, encoded for gas: the same EIP-712 `UsageReport` the worker signs for
    /// {submitReport} (arrays of one element, `amount = samples * price`), without the amount in calldata (the
    /// contract computes it from the license's price, so a signature over any other amount is refused) and with the
    /// signature in EIP-2098 compact form (`r`, `vs` = `s` with the parity in its top bit).
    /// @dev Emits {RoyaltyAccrued} when it pays. Requirements: those of {submitReport}; a signature whose recovered
    /// key is not approved (including one over another amount) reverts `LicenseManager_UnapprovedWorker`.
    /// @return paid The amount paid into the dataset's pool by this report.
    function submitSingleReport(uint256 jobId, uint256 datasetId, uint256 samples, bytes32 r, bytes32 vs)
        external
        returns (uint256 paid);

    /// @notice The worker's last report: settles it as {submitReport}, then ends the job and anchors the receipt's
    /// IPFS CID on chain. The worker signs EIP-712 `FinalReport` (the `UsageReport` fields plus `string receiptCid`),
    /// so whoever submits cannot swap the CID. Anyone may submit.
    /// @dev Emits {RoyaltyAccrued} per dataset paid, {JobEnded}, {JobFinalized}.
    /// Requirements: those of {submitReport} (so not after the lab's {endJob}); a non-empty `receiptCid`. No report is
    /// accepted afterwards.
    function finalizeJob(UsageReport calldata report, string calldata receiptCid, bytes calldata signature)
        external
        returns (uint256 paid);

    /// @notice Ends (cancels) a job: from this block on no report or final report is accepted
    /// (`LicenseManager_JobEnded`); what was settled before stays paid. The refund opens after the grace period.
    /// @dev Emits {JobEnded}. Requirements: caller holds the license; the job has not ended.
    function endJob(uint256 jobId) external;

    /// @notice Sends the job's unused budget to `to`, named by the license holder, once no report can land any more:
    /// at once after the job ended (`endJob` or its final report), otherwise once its report window closed (a holder
    /// the token blocklists can still recover its funds to another address).
    /// @dev Emits {JobRefunded}. Requirements: caller holds the license; `to` is not zero;
    /// `block.timestamp >= refundableAt(jobId)`; not refunded before.
    function refund(uint256 jobId, address to) external returns (uint256 amount);

    /// @notice Sends the license's budget not given to any job to `to`, named by the license holder.
    /// @dev Emits {UnallocatedReclaimed}. Requirements: caller holds the license; `to` is not zero; something is
    /// unallocated.
    function reclaimUnallocated(uint256 licenseId, address to) external returns (uint256 amount);

    /// @notice Stops (or resumes) new sales. Reports, claims and refunds are never paused.
    /// @dev Requirements: caller has PAUSER_ROLE.
    function pause() external;

    /// @notice Resumes new sales. Requirements: caller has PAUSER_ROLE.
    function unpause() external;

    /// @notice The license's escrow record.
    function getLicense(uint256 licenseId) external view returns (License memory);

    /// @notice The datasets a license covers.
    function datasetsOf(uint256 licenseId) external view returns (uint256[] memory);

    /// @notice The terms snapshotted for `datasetId` when the license was bought.
    function termsOf(uint256 licenseId, uint256 datasetId) external view returns (Terms memory);

    /// @notice The job's record.
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice The samples settled so far for `datasetId` in `jobId`.
    function settledSamples(uint256 jobId, uint256 datasetId) external view returns (uint256);

    /// @notice From when the job can be refunded: the moment it ended, or for a job not ended the first second after
    /// its report window (license expiry + grace period).
    function refundableAt(uint256 jobId) external view returns (uint256);

    /// @notice Whether license `licenseId` exists and has not expired (`block.timestamp < expiry`, the same boundary
    /// at which {openJob} starts reverting with `LicenseManager_LicenseExpired`).
    /// @dev For off-chain access checks (the key gate's `eth_call` conditions). Never reverts: an unknown id is
    /// not active.
    function isLicenseActive(uint256 licenseId) external view returns (bool);

    /// @notice The datasets of the license job `jobId` draws on (the same ids as `datasetsOf(job.licenseId)`).
    /// @dev For off-chain access checks: "this worker's job may read dataset D". Never reverts: an unknown job has
    /// no datasets. Says nothing about whether the job is still running: key release pairs it with {isJobActive}
    /// (or uses {jobGrantsKeys}).
    function datasetsOfJob(uint256 jobId) external view returns (uint256[] memory);

    /// @notice Whether job `jobId` is open and funded: it exists, was not ended (by {endJob} or {finalizeJob}) nor
    /// refunded, its license has not expired (`block.timestamp < expiry`), and `spent < budget`.
    /// @dev For the key gate: an attested worker gets data keys only while this holds, so ending, finalizing,
    /// refunding, expiry or an exhausted budget end its access at once (its approval still lets it sign the reports
    /// of work already done until the report window closes). Never reverts: an unknown job is not active.
    function isJobActive(uint256 jobId) external view returns (bool);

    /// @notice {isJobActive} and the job's license covers `datasetId`. Never reverts.
    function jobGrantsKeys(uint256 jobId, uint256 datasetId) external view returns (bool);

    /// @notice `keccak256(bytes(receiptCid))` of the receipt anchored by {finalizeJob}; zero before. The CID itself is
    /// in the {JobFinalized} event.
    function receiptOf(uint256 jobId) external view returns (bytes32);

    /// @notice Whether `holder` currently holds license `licenseId` and it covers `datasetId`: the license NFT's
    /// owner is `holder`, the license is active ({isLicenseActive}), and `datasetId` is one of its datasets.
    /// @dev For off-chain access checks (the key gate's `eth_call` conditions). Never reverts: an unknown license,
    /// an expired one, another holder or another dataset all give false.
    function holdsValidLicense(address holder, uint256 licenseId, uint256 datasetId) external view returns (bool);
}
