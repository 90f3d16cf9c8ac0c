// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {ILicenseManager} from "./interfaces/ILicenseManager.sol";
import {ITrainingLicense} from "./interfaces/ITrainingLicense.sol";
import {Errors} from "./libraries/Errors.sol";
import {RoyaltyPools} from "./RoyaltyPools.sol";
import {TrainingLicense} from "./TrainingLicense.sol";
import {Job, JobDataset, License, Terms, UsageReport} from "./types/DataTypes.sol";

/// @title LicenseManager
/// @notice See {ILicenseManager}. Holds the escrowed budgets and the royalty pools of one payment token. No admin
/// function moves tokens: the only transfers out are refunds to license holders and claims by recipients.
contract LicenseManager is ILicenseManager, RoyaltyPools, AccessControl, Pausable {
    using SafeERC20 for IERC20;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant USAGE_REPORT_TYPEHASH =
        keccak256("UsageReport(uint256 jobId,uint256[] datasetIds,uint256[] samples,uint256[] amounts)");
    bytes32 public constant FINAL_REPORT_TYPEHASH = keccak256(
        "FinalReport(uint256 jobId,uint256[] datasetIds,uint256[] samples,uint256[] amounts,string receiptCid)"
    );
    /// @notice Most datasets in one license.
    uint256 public constant MAX_DATASETS = 32;

    /// @dev A job in three slots, laid out for the report path: `meter` is read and written by every report, `terms`
    /// read by every report, `record` only by the lab's calls, views and refused reports. A one-dataset job keeps its
    /// dataset and price in `terms` (its settled samples are `spent / pricePerSample`, exact since every report pays
    /// whole samples at that price), so its report touches these two slots and the pool; a multi-dataset job keeps
    /// one {JobDataset} slot per dataset (`terms.pricePerSample == 0`).
    struct JobStorage {
        JobMeter meter;
        JobTerms terms;
        JobRecord record;
    }

    /// @dev `startedAt` is 0 when no report is accepted (unknown job, ended by the lab, or finalized); `end` is the
    /// license expiry. Both clamped to uint32 (year 2106).
    struct JobMeter {
        uint96 spent;
        uint96 budget;
        uint32 startedAt;
        uint32 end;
    }

    struct JobTerms {
        uint96 maxRatePerSecond;
        uint96 pricePerSample;
        uint64 datasetId;
    }

    struct JobRecord {
        uint64 licenseId;
        uint40 startedAt;
        uint40 endedAt;
        uint40 expiry;
        bool refunded;
        bool finalized;
    }

    IAttestationRegistry private immutable _attestations;
    ITrainingLicense private immutable _licenseToken;
    uint40 private immutable _gracePeriod;

    uint256 private _licenseCount;
    uint256 private _jobCount;
    mapping(uint256 licenseId => License) private _licenses;
    mapping(uint256 licenseId => uint256[]) private _licenseDatasets;
    mapping(uint256 licenseId => mapping(uint256 datasetId => Terms)) private _terms;
    mapping(uint256 jobId => JobStorage) private _jobs;
    mapping(uint256 jobId => mapping(uint256 datasetId => JobDataset)) private _jobDatasets;
    mapping(uint256 jobId => bytes32 receiptCidHash) private _receipts;

    /// @param token The payment token. Must not charge fees (measured at purchase) or rebase (not detectable).
    /// @param gracePeriod Seconds after a job's end during which its last reports may still land.
    constructor(
        IERC20 token,
        IDatasetRegistry registry,
        IAttestationRegistry attestations,
        uint40 gracePeriod,
        address admin
    ) RoyaltyPools(token, registry) EIP712("Provena LicenseManager", "1") {
        _attestations = attestations;
        _gracePeriod = gracePeriod;
        _licenseToken = new TrainingLicense(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------ sales

    /// @inheritdoc ILicenseManager
    function purchase(uint256[] calldata datasetIds, uint256[] calldata maxPricesPerSample, uint256 budget, uint40 expiry)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 licenseId)
    {
        // Checks
        uint256 n = datasetIds.length;
        if (n == 0) revert Errors.LicenseManager_NoDatasets();
        if (n > MAX_DATASETS) revert Errors.LicenseManager_TooManyDatasets(n, MAX_DATASETS);
        if (maxPricesPerSample.length != n) revert Errors.LicenseManager_LengthMismatch();
        if (budget == 0) revert Errors.LicenseManager_ZeroBudget();
        if (budget > type(uint96).max) revert Errors.LicenseManager_BudgetTooLarge(budget);
        if (expiry <= block.timestamp) revert Errors.LicenseManager_ExpiryNotInFuture(expiry);

        // Effects (terms snapshotted now: later price changes never apply to this license)
        licenseId = ++_licenseCount;
        for (uint256 i; i < n; ++i) {
            uint256 datasetId = datasetIds[i];
            (bool listed, uint128 price, uint64 totalUnits, bytes32 merkleRoot) = _registry.saleTerms(datasetId);
            if (!listed) revert Errors.LicenseManager_DatasetNotListed(datasetId);
            // The buyer's cap: a price raised after the buyer looked (front-running included) is never charged.
            if (price > maxPricesPerSample[i]) {
                revert Errors.LicenseManager_PriceAboveMax(datasetId, price, maxPricesPerSample[i]);
            }
            // What a job's slot stores: a license sold above it could never open a job (the registry refuses such
            // prices too; checked here so that no registry can make openJob revert).
            if (price > type(uint96).max) revert Errors.LicenseManager_PriceTooLarge(datasetId, price);
            if (_terms[licenseId][datasetId].licensed) revert Errors.LicenseManager_DuplicateDataset(datasetId);
            _terms[licenseId][datasetId] = Terms({pricePerSample: price, totalUnits: totalUnits, licensed: true});
            _initPool(datasetId, totalUnits, merkleRoot != bytes32(0));
        }
        _licenseDatasets[licenseId] = datasetIds;
        _licenses[licenseId] = License({
            budget: uint96(budget),
            unallocated: uint96(budget),
            expiry: expiry,
            purchasedAt: uint40(block.timestamp)
        });
        emit LicensePurchased(licenseId, msg.sender, budget, expiry, datasetIds);

        // Interactions: measure what arrived, so a fee-on-transfer token cannot leave escrow short.
        uint256 balanceBefore = _token.balanceOf(address(this));
        _token.safeTransferFrom(msg.sender, address(this), budget);
        uint256 received = _token.balanceOf(address(this)) - balanceBefore;
        if (received != budget) revert Errors.LicenseManager_FeeOnTransferToken(budget, received);
        _licenseToken.mint(msg.sender, licenseId);
    }

    /// @inheritdoc ILicenseManager
    function openJob(uint256 licenseId, uint256 budget, uint256 maxRatePerSecond) external returns (uint256 jobId) {
        // Checks
        _requireHolder(licenseId);
        License storage license = _licenses[licenseId];
        if (block.timestamp >= license.expiry) revert Errors.LicenseManager_LicenseExpired(licenseId, license.expiry);
        if (budget == 0) revert Errors.LicenseManager_ZeroBudget();
        if (budget > license.unallocated) {
            revert Errors.LicenseManager_InsufficientUnallocated(licenseId, budget, license.unallocated);
        }
        if (maxRatePerSecond == 0) revert Errors.LicenseManager_ZeroRate();

        // Effects
        license.unallocated -= uint96(budget); // budget <= unallocated < 2^96
        jobId = ++_jobCount;
        _initJob(jobId, licenseId, budget, maxRatePerSecond, license.expiry);
        emit JobOpened(jobId, licenseId, budget, maxRatePerSecond);
    }

    /// @dev Writes a new job's three slots, and a multi-dataset job's per-dataset slots. `budget` < 2^96.
    function _initJob(uint256 jobId, uint256 licenseId, uint256 budget, uint256 maxRatePerSecond, uint40 expiry) private {
        JobStorage storage job = _jobs[jobId];
        job.meter = JobMeter({
            spent: 0,
            budget: uint96(budget),
            startedAt: SafeCast.toUint32(block.timestamp),
            end: uint32(Math.min(expiry, type(uint32).max))
        });
        JobTerms memory terms =
            JobTerms({maxRatePerSecond: uint96(Math.min(maxRatePerSecond, type(uint96).max)), pricePerSample: 0, datasetId: 0});
        uint256[] storage datasetIds = _licenseDatasets[licenseId];
        uint256 n = datasetIds.length;
        uint256 first = datasetIds[0];
        if (n == 1 && first <= type(uint64).max) {
            // <= type(uint96).max, checked at purchase
            (terms.pricePerSample, terms.datasetId) = (uint96(_terms[licenseId][first].pricePerSample), uint64(first));
        } else {
            for (uint256 i; i < n; ++i) {
                uint256 datasetId = datasetIds[i];
                _jobDatasets[jobId][datasetId] =
                    JobDataset({settledSamples: 0, pricePerSample: uint96(_terms[licenseId][datasetId].pricePerSample)});
            }
        }
        job.terms = terms;
        job.record = JobRecord({
            licenseId: uint64(licenseId),
            startedAt: uint40(block.timestamp),
            endedAt: 0,
            expiry: expiry,
            refunded: false,
            finalized: false
        });
    }

    // ------------------------------------------------------------------------------------------ settlement

    /// @inheritdoc ILicenseManager
    function submitReport(UsageReport calldata report, bytes calldata signature) external returns (uint256 paid) {
        (paid,) = _settleReport(report, _hashTypedDataV4(_reportStructHash(USAGE_REPORT_TYPEHASH, report, "")), signature);
    }

    /// @inheritdoc ILicenseManager
    function submitSingleReport(uint256 jobId, uint256 datasetId, uint256 samples, bytes32 r, bytes32 vs)
        external
        returns (uint256 paid)
    {
        // Checks
        JobStorage storage job = _jobs[jobId];
        JobMeter memory meter = job.meter;
        JobTerms memory terms = job.terms;
        _requireOpen(jobId, meter);
        (uint256 price, uint256 settled) = _position(jobId, datasetId, meter.spent, terms);
        // The worker signed the same `UsageReport` as for {submitReport} (arrays of one); its amount is the one the
        // license's price gives, so a signature over any other amount recovers another key and is refused.
        bytes32 structHash = keccak256(
            abi.encode(
                USAGE_REPORT_TYPEHASH,
                jobId,
                keccak256(abi.encode(datasetId)),
                keccak256(abi.encode(samples)),
                keccak256(abi.encode(samples * price))
            )
        );
        (address worker, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), r, vs);
        _requireApproved(jobId, worker, err);
        if (samples <= settled) return 0;
        // Effects
        paid = _pay(jobId, datasetId, samples, settled, price, terms.pricePerSample != 0);
        _charge(jobId, job, meter, terms, paid);
    }

    /// @inheritdoc ILicenseManager
    function finalizeJob(UsageReport calldata report, string calldata receiptCid, bytes calldata signature)
        external
        returns (uint256 paid)
    {
        // Checks (the receipt CID is part of what the worker signed, so no submitter can swap it)
        if (bytes(receiptCid).length == 0) revert Errors.LicenseManager_EmptyReceipt();
        bytes32 cidHash = keccak256(bytes(receiptCid));
        address worker;
        (paid, worker) =
            _settleReport(report, _hashTypedDataV4(_reportStructHash(FINAL_REPORT_TYPEHASH, report, cidHash)), signature);
        // Effects: the job is over (no more reports or keys); the lab's refund opens after the grace period.
        uint256 jobId = report.jobId;
        JobStorage storage job = _jobs[jobId];
        job.record.finalized = true;
        job.meter.startedAt = 0; // no report is accepted afterwards
        job.record.endedAt = uint40(block.timestamp); // not ended before: {_requireOpen} refuses an ended job
        emit JobEnded(jobId, uint40(block.timestamp));
        _receipts[jobId] = cidHash;
        emit JobFinalized(jobId, worker, receiptCid);
    }

    /// @dev The checks and effects shared by {submitReport} and {finalizeJob}; returns what was paid into pools and
    /// the worker key that signed `digest`.
    function _settleReport(UsageReport calldata report, bytes32 digest, bytes calldata signature)
        private
        returns (uint256 paid, address worker)
    {
        // Checks
        uint256 jobId = report.jobId;
        uint256 n = report.datasetIds.length;
        if (n == 0 || report.samples.length != n || report.amounts.length != n) {
            revert Errors.LicenseManager_LengthMismatch();
        }
        JobStorage storage job = _jobs[jobId];
        JobMeter memory meter = job.meter;
        JobTerms memory terms = job.terms;
        _requireOpen(jobId, meter);
        ECDSA.RecoverError err;
        (worker, err,) = ECDSA.tryRecover(digest, signature);
        _requireApproved(jobId, worker, err);

        // Effects: per dataset, pay only the increase over what this job already settled (cumulative reports make
        // replays and stale reports pay nothing). `spent` runs along: a one-dataset job's settled samples derive
        // from it.
        uint256 spent = meter.spent;
        for (uint256 i; i < n; ++i) {
            uint256 amount = _settleAt(report, i, spent, terms);
            (spent, paid) = (spent + amount, paid + amount);
        }
        if (paid != 0) _charge(jobId, job, meter, terms, paid);
        // No interactions: royalties move between internal balances only.
    }

    /// @dev Settles dataset `i` of a report (`spent`: the job's total so far); returns what it paid.
    function _settleAt(UsageReport calldata report, uint256 i, uint256 spent, JobTerms memory terms)
        private
        returns (uint256)
    {
        uint256 datasetId = report.datasetIds[i];
        uint256 samples = report.samples[i];
        (uint256 price, uint256 settled) = _position(report.jobId, datasetId, spent, terms);
        uint256 expected = samples * price;
        if (report.amounts[i] != expected) revert Errors.LicenseManager_AmountMismatch(datasetId, expected, report.amounts[i]);
        if (samples <= settled) return 0;
        return _pay(report.jobId, datasetId, samples, settled, price, terms.pricePerSample != 0);
    }

    /// @dev Reverts unless the job accepts reports now: it exists, is neither finalized nor ended by the lab, and its
    /// report window (license expiry plus the grace period) is open. Reads the job's record only when the meter refuses
    /// (`endJob` and `finalizeJob` zero the meter's `startedAt`).
    function _requireOpen(uint256 jobId, JobMeter memory meter) private view {
        if (meter.startedAt != 0 && block.timestamp <= uint256(meter.end) + _gracePeriod) return;
        JobRecord memory record = _jobs[jobId].record;
        if (record.startedAt == 0) revert Errors.LicenseManager_UnknownJob(jobId);
        if (record.finalized) revert Errors.LicenseManager_JobFinalized(jobId);
        // The lab ended (cancelled) the job: nothing is paid after its `endJob`, not even a report signed or relayed
        // while the cancel was in flight (mined before it, a report settled; mined after, it pays nothing).
        if (record.endedAt != 0) revert Errors.LicenseManager_JobEnded(jobId);
        uint256 closesAt = _effectiveEnd(record) + _gracePeriod;
        if (block.timestamp > closesAt) revert Errors.LicenseManager_ReportWindowClosed(jobId, closesAt);
        // Only past 2106 (the meter's clamped end): the record's end still holds.
    }

    /// @dev Reverts unless the recovered `signer` is a key approved for the job. The domain binds chain id and this
    /// contract; the struct binds the job.
    function _requireApproved(uint256 jobId, address signer, ECDSA.RecoverError err) private view {
        if (err != ECDSA.RecoverError.NoError) revert Errors.LicenseManager_InvalidSignature();
        if (!_attestations.isApproved(jobId, signer)) revert Errors.LicenseManager_UnapprovedWorker(jobId, signer);
    }

    /// @dev A licensed dataset's price for the job and the samples it settled so far (`spent`: the job's total).
    function _position(uint256 jobId, uint256 datasetId, uint256 spent, JobTerms memory terms)
        private
        view
        returns (uint256 price, uint256 settled)
    {
        if (terms.pricePerSample != 0) {
            if (datasetId != terms.datasetId) revert Errors.LicenseManager_DatasetNotLicensed(jobId, datasetId);
            price = terms.pricePerSample;
            settled = spent / price;
        } else {
            JobDataset memory jd = _jobDatasets[jobId][datasetId];
            price = jd.pricePerSample;
            if (price == 0) revert Errors.LicenseManager_DatasetNotLicensed(jobId, datasetId);
            settled = jd.settledSamples;
        }
    }

    /// @dev Pays `samples - settled` (> 0) at `price` into the dataset's pool; returns the amount.
    function _pay(uint256 jobId, uint256 datasetId, uint256 samples, uint256 settled, uint256 price, bool oneDataset)
        private
        returns (uint256 amount)
    {
        amount = (samples - settled) * price;
        if (!oneDataset) _jobDatasets[jobId][datasetId].settledSamples = SafeCast.toUint96(samples);
        _payIntoPool(datasetId, amount);
        emit RoyaltyAccrued(datasetId, jobId, samples, amount);
    }

    /// @dev Adds `paid` to the job's spent total within its budget and rate cap.
    function _charge(uint256 jobId, JobStorage storage job, JobMeter memory meter, JobTerms memory terms, uint256 paid)
        private
    {
        uint256 spent = meter.spent + paid;
        if (spent > meter.budget) revert Errors.LicenseManager_BudgetExceeded(jobId, paid, meter.budget - meter.spent);
        // The second a job opened counts as one second of drain: chains that give several blocks one timestamp
        // (anvil, fast L2s) would otherwise refuse every report mined in the opening second (elapsed 0).
        uint256 allowed = uint256(terms.maxRatePerSecond) * (Math.min(block.timestamp, meter.end) - meter.startedAt + 1);
        if (spent > allowed) revert Errors.LicenseManager_RateCapExceeded(jobId, spent, allowed);
        job.meter.spent = uint96(spent); // <= budget < 2^96
    }

    /// @dev The EIP-712 struct hash of a `UsageReport` (`cidHash` unused) or a `FinalReport`.
    function _reportStructHash(bytes32 typehash, UsageReport calldata report, bytes32 cidHash)
        private
        pure
        returns (bytes32)
    {
        bytes32 datasets = keccak256(abi.encodePacked(report.datasetIds));
        bytes32 samples = keccak256(abi.encodePacked(report.samples));
        bytes32 amounts = keccak256(abi.encodePacked(report.amounts));
        return typehash == USAGE_REPORT_TYPEHASH
            ? keccak256(abi.encode(typehash, report.jobId, datasets, samples, amounts))
            : keccak256(abi.encode(typehash, report.jobId, datasets, samples, amounts, cidHash));
    }

    /// @inheritdoc ILicenseManager
    function endJob(uint256 jobId) external {
        // Checks
        JobStorage storage job = _existingJob(jobId);
        _requireHolder(job.record.licenseId);
        if (job.record.endedAt != 0) revert Errors.LicenseManager_JobEnded(jobId);
        // Effects
        job.record.endedAt = uint40(block.timestamp);
        job.meter.startedAt = 0; // no report is accepted afterwards ({_requireOpen}: LicenseManager_JobEnded)
        emit JobEnded(jobId, uint40(block.timestamp));
    }

    /// @inheritdoc ILicenseManager
    function refund(uint256 jobId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert Errors.LicenseManager_ZeroAddress();
        JobStorage storage job = _existingJob(jobId);
        JobRecord memory record = job.record;
        _requireHolder(record.licenseId);
        if (record.refunded) revert Errors.LicenseManager_AlreadyRefunded(jobId);
        uint256 from = _refundableAt(record);
        if (block.timestamp < from) revert Errors.LicenseManager_GraceNotOver(jobId, from);
        // Effects
        job.record.refunded = true;
        amount = job.meter.budget - job.meter.spent;
        emit JobRefunded(jobId, to, amount);
        // Interactions (pull: only the holder can trigger, to the address it names)
        if (amount != 0) _token.safeTransfer(to, amount);
    }

    /// @inheritdoc ILicenseManager
    function reclaimUnallocated(uint256 licenseId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert Errors.LicenseManager_ZeroAddress();
        _requireHolder(licenseId);
        License storage license = _licenses[licenseId];
        amount = license.unallocated;
        if (amount == 0) revert Errors.LicenseManager_NothingToRefund();
        // Effects
        license.unallocated = 0;
        emit UnallocatedReclaimed(licenseId, to, amount);
        // Interactions
        _token.safeTransfer(to, amount);
    }

    // ------------------------------------------------------------------------------------------ admin

    /// @inheritdoc ILicenseManager
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ILicenseManager
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------------------------------ views

    /// @inheritdoc ILicenseManager
    function getLicense(uint256 licenseId) external view returns (License memory) {
        return _licenses[licenseId];
    }

    /// @inheritdoc ILicenseManager
    function datasetsOf(uint256 licenseId) external view returns (uint256[] memory) {
        return _licenseDatasets[licenseId];
    }

    /// @inheritdoc ILicenseManager
    function termsOf(uint256 licenseId, uint256 datasetId) external view returns (Terms memory) {
        return _terms[licenseId][datasetId];
    }

    /// @inheritdoc ILicenseManager
    function getJob(uint256 jobId) external view returns (Job memory) {
        JobStorage storage job = _jobs[jobId];
        (JobMeter memory m, JobRecord memory r) = (job.meter, job.record);
        return Job({
            budget: m.budget,
            spent: m.spent,
            licenseId: r.licenseId,
            maxRatePerSecond: job.terms.maxRatePerSecond,
            startedAt: r.startedAt,
            endedAt: r.endedAt,
            expiry: r.expiry,
            refunded: r.refunded,
            finalized: r.finalized
        });
    }

    /// @inheritdoc ILicenseManager
    function settledSamples(uint256 jobId, uint256 datasetId) external view returns (uint256) {
        JobTerms memory terms = _jobs[jobId].terms;
        if (terms.pricePerSample == 0) return _jobDatasets[jobId][datasetId].settledSamples;
        return datasetId == terms.datasetId ? _jobs[jobId].meter.spent / terms.pricePerSample : 0;
    }

    /// @inheritdoc ILicenseManager
    function refundableAt(uint256 jobId) external view returns (uint256) {
        return _refundableAt(_existingJob(jobId).record);
    }

    /// @inheritdoc ILicenseManager
    function isLicenseActive(uint256 licenseId) external view returns (bool) {
        return _isActive(licenseId);
    }

    /// @inheritdoc ILicenseManager
    function datasetsOfJob(uint256 jobId) external view returns (uint256[] memory) {
        // License ids start at 1, so an unknown job (licenseId 0) reads the empty list of license 0.
        return _licenseDatasets[_jobs[jobId].record.licenseId];
    }

    /// @inheritdoc ILicenseManager
    function isJobActive(uint256 jobId) public view returns (bool) {
        JobStorage storage job = _jobs[jobId];
        (JobRecord memory r, JobMeter memory m) = (job.record, job.meter);
        // An unknown job has expiry 0; a finalized job has endedAt set; a refunded one is past its end (checked
        // anyway).
        return block.timestamp < r.expiry && r.endedAt == 0 && !r.refunded && m.spent < m.budget;
    }

    /// @inheritdoc ILicenseManager
    function jobGrantsKeys(uint256 jobId, uint256 datasetId) external view returns (bool) {
        // A licensed dataset's slot has a non-zero price (the registry refuses price 0).
        if (!isJobActive(jobId)) return false;
        JobTerms memory terms = _jobs[jobId].terms;
        return terms.pricePerSample != 0 ? terms.datasetId == datasetId : _jobDatasets[jobId][datasetId].pricePerSample != 0;
    }

    /// @inheritdoc ILicenseManager
    function receiptOf(uint256 jobId) external view returns (bytes32) {
        return _receipts[jobId];
    }

    /// @inheritdoc ILicenseManager
    function holdsValidLicense(address holder, uint256 licenseId, uint256 datasetId) external view returns (bool) {
        if (!_isActive(licenseId) || !_terms[licenseId][datasetId].licensed) return false;
        // An active license was minted in its purchase transaction and there is no burn, so ownerOf cannot revert.
        return _licenseToken.ownerOf(licenseId) == holder;
    }

    /// @notice The payment token, the registries and the license NFT this manager uses.
    function contractsInUse()
        external
        view
        returns (address token, address registry, address attestations, address licenseToken, uint40 gracePeriod)
    {
        return (address(_token), address(_registry), address(_attestations), address(_licenseToken), _gracePeriod);
    }

    /// @notice The EIP-712 domain separator (name "Provena LicenseManager", version "1").
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------------------------------ internals

    /// @dev A job stops accruing at its end or its license's expiry, whichever is first.
    /// @dev When what is left of a job's budget is final. Once the job ended (`endJob`, or the worker's final report)
    /// no report can land any more ({_requireOpen}), so at once; otherwise when its report window has closed.
    function _refundableAt(JobRecord memory record) private view returns (uint256) {
        return record.endedAt != 0 ? record.endedAt : _effectiveEnd(record) + _gracePeriod + 1;
    }

    function _effectiveEnd(JobRecord memory record) private pure returns (uint256) {
        return record.endedAt != 0 && record.endedAt < record.expiry ? record.endedAt : record.expiry;
    }

    /// @dev An unknown license has expiry 0, so it is never active; purchase requires `expiry > block.timestamp`.
    function _isActive(uint256 licenseId) private view returns (bool) {
        return block.timestamp < _licenses[licenseId].expiry;
    }

    function _existingJob(uint256 jobId) private view returns (JobStorage storage job) {
        job = _jobs[jobId];
        if (job.record.startedAt == 0) revert Errors.LicenseManager_UnknownJob(jobId);
    }

    function _requireHolder(uint256 licenseId) private view {
        if (_licenseToken.ownerOf(licenseId) != msg.sender) {
            revert Errors.LicenseManager_NotLicenseHolder(licenseId, msg.sender);
        }
    }
}
