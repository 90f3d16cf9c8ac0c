// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Dataset, Registration} from "../types/DataTypes.sol";

/// @title IDatasetRegistry
/// @notice Datasets offered for training: manifest CID, price per training sample and an immutable royalty split.
/// Price and manifest change as new versions; licenses snapshot the terms at purchase, so changes never apply to
/// licenses already sold.
interface IDatasetRegistry {
    /// @notice Emitted when a dataset is registered.
    event DatasetRegistered(
        uint256 indexed datasetId, address indexed owner, string manifestCid, uint128 pricePerSample, bytes32 merkleRoot, uint64 totalUnits
    );
    /// @notice Emitted when a dataset's price or manifest changed; `version` is the new version.
    event DatasetUpdated(uint256 indexed datasetId, uint64 version, string manifestCid, uint128 pricePerSample);
    /// @notice Emitted when a dataset was delisted.
    event DatasetDelisted(uint256 indexed datasetId);

    /// @notice Registers a dataset owned by the caller.
    /// @dev Emits {DatasetRegistered}.
    /// Requirements: non-empty manifest; 0 < price <= `type(uint96).max`; a valid split (see {Split}).
    /// @return datasetId The new dataset's id (ids start at 1).
    function register(Registration calldata registration) external returns (uint256 datasetId);

    /// @notice Registers a dataset for `owner`, who signed the EIP-712 `Registration` message; anyone may submit.
    /// @dev Emits {DatasetRegistered}. Consumes `owner`'s nonce. ERC-1271 contract owners are supported.
    /// Requirements: `block.timestamp <= deadline`; a valid signature by `owner` over the current nonce.
    function registerWithSig(Registration calldata registration, address owner, uint256 deadline, bytes calldata signature)
        external
        returns (uint256 datasetId);

    /// @notice Sets a new price and manifest as a new version.
    /// @dev Emits {DatasetUpdated}. Requirements: caller is the owner; the dataset is listed; 0 < price <= `type(uint96).max`;
    /// non-empty manifest.
    function update(uint256 datasetId, uint128 pricePerSample, string calldata manifestCid) external;

    /// @notice {update} for the dataset's current owner, who signed the EIP-712
    /// `Update(uint256 datasetId,uint128 pricePerSample,string manifestCid,uint256 nonce,uint256 deadline)` message;
    /// anyone may submit (e.g. the API relaying a new manifest CID after an encrypted upload).
    /// @dev Emits {DatasetUpdated}. Consumes the owner's nonce (the same {nonces} counter as {registerWithSig}).
    /// ERC-1271 contract owners are supported.
    /// Requirements: `block.timestamp <= deadline`; the dataset exists; a valid signature by its owner over the
    /// current nonce; the dataset is listed; 0 < price <= `type(uint96).max`; non-empty manifest.
    function updateWithSig(
        uint256 datasetId,
        uint128 pricePerSample,
        string calldata manifestCid,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Stops new sales of the dataset. Existing licenses and their jobs are unaffected.
    /// @dev Emits {DatasetDelisted}. Requirements: caller is the owner; the dataset is listed.
    function delist(uint256 datasetId) external;

    /// @notice The dataset's current record. Reverts for an unknown id.
    function getDataset(uint256 datasetId) external view returns (Dataset memory);

    /// @notice What a license needs at purchase: listing state, current price, total units and Merkle root.
    function saleTerms(uint256 datasetId)
        external
        view
        returns (bool listed, uint128 pricePerSample, uint64 totalUnits, bytes32 merkleRoot);

    /// @notice The explicit-split units (basis points) of `account`, 0 when it is not a recipient.
    function explicitUnits(uint256 datasetId, address account) external view returns (uint64);

    /// @notice The explicit split's recipients (empty for a Merkle split).
    function recipientsOf(uint256 datasetId) external view returns (address[] memory);

    /// @notice The next nonce `owner` must sign for {registerWithSig} or {updateWithSig} (one shared counter).
    function nonces(address owner) external view returns (uint256);

    /// @notice The number of datasets registered so far (also the last id).
    function datasetCount() external view returns (uint256);

    /// @notice The dataset's current owner; zero for an unknown id (never reverts).
    function datasetOwner(uint256 datasetId) external view returns (address);
}
