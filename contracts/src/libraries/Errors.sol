// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Errors
/// @notice Every custom error of Provena's contracts, named `Contract_Condition(args)`.
library Errors {
    // ---------------------------------------------------------------- DatasetRegistry
    error DatasetRegistry_EmptyManifest();
    error DatasetRegistry_ZeroPrice();
    error DatasetRegistry_InvalidSplit();
    error DatasetRegistry_BpsSumNot10000(uint256 sum);
    error DatasetRegistry_DuplicateRecipient(address recipient);
    error DatasetRegistry_TooManyRecipients(uint256 count, uint256 max);
    error DatasetRegistry_NotOwner(uint256 datasetId, address caller);
    error DatasetRegistry_UnknownDataset(uint256 datasetId);
    error DatasetRegistry_AlreadyDelisted(uint256 datasetId);
    error DatasetRegistry_SignatureExpired(uint256 deadline);
    error DatasetRegistry_InvalidSignature(address owner);
    error DatasetRegistry_PriceTooLarge(uint256 price, uint256 max);

    // ---------------------------------------------------------------- AttestationRegistry
    error AttestationRegistry_ZeroWorker();
    error AttestationRegistry_ZeroEvidence();

    // ---------------------------------------------------------------- TrainingLicense
    error TrainingLicense_NotManager(address caller);
    error TrainingLicense_NonTransferable(uint256 licenseId);

    // ---------------------------------------------------------------- LicenseManager: sales
    error LicenseManager_NoDatasets();
    error LicenseManager_TooManyDatasets(uint256 count, uint256 max);
    error LicenseManager_DatasetNotListed(uint256 datasetId);
    error LicenseManager_DuplicateDataset(uint256 datasetId);
    error LicenseManager_ZeroBudget();
    error LicenseManager_BudgetTooLarge(uint256 budget);
    error LicenseManager_ExpiryNotInFuture(uint256 expiry);
    error LicenseManager_FeeOnTransferToken(uint256 expected, uint256 received);
    error LicenseManager_NotLicenseHolder(uint256 licenseId, address caller);
    error LicenseManager_LicenseExpired(uint256 licenseId, uint256 expiry);
    error LicenseManager_InsufficientUnallocated(uint256 licenseId, uint256 requested, uint256 available);
    error LicenseManager_ZeroRate();
    error LicenseManager_PriceAboveMax(uint256 datasetId, uint256 price, uint256 maxPrice);
    error LicenseManager_PriceTooLarge(uint256 datasetId, uint256 price);
    error LicenseManager_ZeroAddress();

    // ---------------------------------------------------------------- LicenseManager: jobs and reports
    error LicenseManager_UnknownJob(uint256 jobId);
    error LicenseManager_JobEnded(uint256 jobId);
    error LicenseManager_ReportWindowClosed(uint256 jobId, uint256 closedAt);
    error LicenseManager_LengthMismatch();
    error LicenseManager_InvalidSignature();
    error LicenseManager_UnapprovedWorker(uint256 jobId, address signer);
    error LicenseManager_DatasetNotLicensed(uint256 jobId, uint256 datasetId);
    error LicenseManager_AmountMismatch(uint256 datasetId, uint256 expected, uint256 reported);
    error LicenseManager_BudgetExceeded(uint256 jobId, uint256 requested, uint256 remaining);
    error LicenseManager_RateCapExceeded(uint256 jobId, uint256 requested, uint256 allowed);
    error LicenseManager_GraceNotOver(uint256 jobId, uint256 refundableAt);
    error LicenseManager_AlreadyRefunded(uint256 jobId);
    error LicenseManager_NothingToRefund();
    error LicenseManager_JobFinalized(uint256 jobId);
    error LicenseManager_EmptyReceipt();

    // ---------------------------------------------------------------- RoyaltyPools
    error RoyaltyPools_NotRecipient(uint256 datasetId, address account);
    error RoyaltyPools_InvalidProof(uint256 datasetId, address account);
    /// A Merkle proof after the proven units already reached the pool's `totalUnits` (a tree over-committing units).
    error RoyaltyPools_UnitsExhausted(uint256 datasetId, address account);
    error RoyaltyPools_SignatureExpired(uint256 deadline);
    error RoyaltyPools_InvalidSignature(address recipient);
    error RoyaltyPools_ZeroAddress();
    error RoyaltyPools_ProofWindowClosed(uint256 datasetId, uint256 closedAt);
    error RoyaltyPools_NoMerklePool(uint256 datasetId);
    error RoyaltyPools_ProofWindowOpen(uint256 datasetId, uint256 closesAt);
    error RoyaltyPools_NotDatasetOwner(uint256 datasetId, address caller);
}
