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

    IAttestationRegistry private immutable _attestations;
    ITrainingLicense private immutable _licenseToken;
    uint40 private immutable _gracePeriod;

    uint256 private _licenseCount;
    uint256 private _jobCount;
    mapping(uint256 licenseId => License) private _licenses;
    mapping(uint256 licenseId => uint256[]) private _licenseDatasets;
    mapping(uint256 licenseId => mapping(uint256 datasetId => Terms)) private _terms;
    mapping(uint256 jobId => Job) private _jobs;
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
        _jobs[jobId] = Job({
            budget: uint96(budget),
            spent: 0,
            licenseId: uint64(licenseId),
            maxRatePerSecond: uint96(Math.min(maxRatePerSecond, type(uint96).max)),
            startedAt: uint40(block.timestamp),
            endedAt: 0,
            expiry: license.expiry,
            refunded: false,
            finalized: false
        });
        uint256[] storage datasetIds = _licenseDatasets[licenseId];
        for (uint256 i; i < datasetIds.length; ++i) {
            Terms memory terms = _terms[licenseId][datasetIds[i]];
            _jobDatasets[jobId][datasetIds[i]] = JobDataset({
                settledSamples: 0,
                pricePerSample: uint96(terms.pricePerSample), // <= type(uint96).max, checked at purchase
                totalUnits: terms.totalUnits
            });
        }
        emit JobOpened(jobId, licenseId, budget, maxRatePerSecond);
    }

    // ------------------------------------------------------------------------------------------ settlement

    /// @inheritdoc ILicenseManager
    function submitReport(UsageReport calldata report, bytes calldata signature) external returns (uint256 paid) {
        (paid,) = _settleReport(report, _hashTypedDataV4(_reportStructHash(USAGE_REPORT_TYPEHASH, report, "")), signature);
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
        Job storage job = _jobs[jobId];
        job.finalized = true;
        if (job.endedAt == 0) {
            job.endedAt = uint40(block.timestamp);
            emit JobEnded(jobId, uint40(block.timestamp));
        }
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
        Job memory job = _jobs[jobId];
        if (job.startedAt == 0) revert Errors.LicenseManager_UnknownJob(jobId);
        if (job.finalized) revert Errors.LicenseManager_JobFinalized(jobId);
        uint256 end = _effectiveEnd(job);
        if (block.timestamp > end + _gracePeriod) revert Errors.LicenseManager_ReportWindowClosed(jobId, end + _gracePeriod);
        worker = _requireApprovedSigner(jobId, digest, signature);

        // Effects: per dataset, pay only the increase over what this job already settled (cumulative reports make
        // replays and stale reports pay nothing).
        for (uint256 i; i < n; ++i) {
            paid += _settle(report, i);
        }
        if (paid == 0) return (0, worker);

        uint256 spent = job.spent + paid;
        if (spent > job.budget) revert Errors.LicenseManager_BudgetExceeded(jobId, paid, job.budget - job.spent);
        // The second a job opened counts as one second of drain: chains that give several blocks one timestamp
        // (anvil, fast L2s) would otherwise refuse every report mined in the opening second (elapsed 0).
        uint256 allowed = uint256(job.maxRatePerSecond) * (Math.min(block.timestamp, end) - job.startedAt + 1);
        if (spent > allowed) revert Errors.LicenseManager_RateCapExceeded(jobId, spent, allowed);
        _jobs[jobId].spent = uint96(spent); // <= budget < 2^96
        // No interactions: royalties move between internal balances only.
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

    /// @dev Reverts unless `signature` over `digest` recovers to a key approved for the job; returns that key.
    /// The domain binds chain id and this contract; the struct binds the job.
    function _requireApprovedSigner(uint256 jobId, bytes32 digest, bytes calldata signature)
        private
        view
        returns (address signer)
    {
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError) revert Errors.LicenseManager_InvalidSignature();
        if (!_attestations.isApproved(jobId, signer)) revert Errors.LicenseManager_UnapprovedWorker(jobId, signer);
    }

    /// @dev Settles one dataset of a report; returns what it paid into the dataset's pool.
    function _settle(UsageReport calldata report, uint256 i) private returns (uint256 amount) {
        uint256 jobId = report.jobId;
        uint256 datasetId = report.datasetIds[i];
        uint256 samples = report.samples[i];
        JobDataset storage jd = _jobDatasets[jobId][datasetId];
        uint256 price = jd.pricePerSample;
        if (price == 0) revert Errors.LicenseManager_DatasetNotLicensed(jobId, datasetId);
        uint256 expected = samples * price;
        if (report.amounts[i] != expected) revert Errors.LicenseManager_AmountMismatch(datasetId, expected, report.amounts[i]);
        uint256 settled = jd.settledSamples;
        if (samples <= settled) return 0;
        amount = (samples - settled) * price;
        jd.settledSamples = SafeCast.toUint96(samples);
        _payIntoPool(datasetId, amount, jd.totalUnits);
        emit RoyaltyAccrued(datasetId, jobId, samples, amount);
    }

    /// @inheritdoc ILicenseManager
    function endJob(uint256 jobId) external {
        // Checks
        Job storage job = _existingJob(jobId);
        _requireHolder(job.licenseId);
        if (job.endedAt != 0) revert Errors.LicenseManager_JobEnded(jobId);
        // Effects
        job.endedAt = uint40(block.timestamp);
        emit JobEnded(jobId, uint40(block.timestamp));
    }

    /// @inheritdoc ILicenseManager
    function refund(uint256 jobId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert Errors.LicenseManager_ZeroAddress();
        Job storage job = _existingJob(jobId);
        _requireHolder(job.licenseId);
        if (job.refunded) revert Errors.LicenseManager_AlreadyRefunded(jobId);
        uint256 closesAt = _effectiveEnd(job) + _gracePeriod;
        if (block.timestamp <= closesAt) revert Errors.LicenseManager_GraceNotOver(jobId, closesAt + 1);
        // Effects
        job.refunded = true;
        amount = job.budget - job.spent;
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
        return _jobs[jobId];
    }

    /// @inheritdoc ILicenseManager
    function settledSamples(uint256 jobId, uint256 datasetId) external view returns (uint256) {
        return _jobDatasets[jobId][datasetId].settledSamples;
    }

    /// @inheritdoc ILicenseManager
    function refundableAt(uint256 jobId) external view returns (uint256) {
        return _effectiveEnd(_existingJob(jobId)) + _gracePeriod + 1;
    }

    /// @inheritdoc ILicenseManager
    function isLicenseActive(uint256 licenseId) external view returns (bool) {
        return _isActive(licenseId);
    }

    /// @inheritdoc ILicenseManager
    function datasetsOfJob(uint256 jobId) external view returns (uint256[] memory) {
        // License ids start at 1, so an unknown job (licenseId 0) reads the empty list of license 0.
        return _licenseDatasets[_jobs[jobId].licenseId];
    }

    /// @inheritdoc ILicenseManager
    function isJobActive(uint256 jobId) public view returns (bool) {
        Job storage job = _jobs[jobId];
        // An unknown job has expiry 0; a finalized job has endedAt set; a refunded one is past its end (checked
        // anyway).
        return block.timestamp < job.expiry && job.endedAt == 0 && !job.refunded && job.spent < job.budget;
    }

    /// @inheritdoc ILicenseManager
    function jobGrantsKeys(uint256 jobId, uint256 datasetId) external view returns (bool) {
        // A licensed dataset's slot has a non-zero price (the registry refuses price 0).
        return isJobActive(jobId) && _jobDatasets[jobId][datasetId].pricePerSample != 0;
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
    function _effectiveEnd(Job memory job) private pure returns (uint256) {
        return job.endedAt != 0 && job.endedAt < job.expiry ? job.endedAt : job.expiry;
    }

    /// @dev An unknown license has expiry 0, so it is never active; purchase requires `expiry > block.timestamp`.
    function _isActive(uint256 licenseId) private view returns (bool) {
        return block.timestamp < _licenses[licenseId].expiry;
    }

    function _existingJob(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.startedAt == 0) revert Errors.LicenseManager_UnknownJob(jobId);
    }

    function _requireHolder(uint256 licenseId) private view {
        if (_licenseToken.ownerOf(licenseId) != msg.sender) {
            revert Errors.LicenseManager_NotLicenseHolder(licenseId, msg.sender);
        }
    }
}
