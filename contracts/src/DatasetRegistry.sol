// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {Errors} from "./libraries/Errors.sol";
import {Dataset, Registration, Split} from "./types/DataTypes.sol";

/// @title DatasetRegistry
/// @notice See {IDatasetRegistry}. The royalty split is fixed at registration: pools account per unit, so changing
/// units later would re-price what recipients already accrued.
contract DatasetRegistry is IDatasetRegistry, EIP712, Nonces {
    /// @notice Basis points of an explicit split.
    uint64 public constant BPS = 10_000;
    /// @notice Most recipients of an explicit split; larger splits use a Merkle root.
    uint256 public constant MAX_EXPLICIT_RECIPIENTS = 32;
    /// @notice Highest price per sample: what a job's per-dataset slot stores (`uint96`), so that a license sold at
    /// any listed price can always open jobs.
    uint256 public constant MAX_PRICE_PER_SAMPLE = type(uint96).max;

    bytes32 public constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address owner,string manifestCid,uint256 pricePerSample,address[] recipients,uint16[] bps,bytes32 merkleRoot,uint64 totalUnits,uint256 nonce,uint256 deadline)"
    );

    bytes32 public constant UPDATE_TYPEHASH = keccak256(
        "Update(uint256 datasetId,uint128 pricePerSample,string manifestCid,uint256 nonce,uint256 deadline)"
    );

    uint256 private _datasetCount;
    mapping(uint256 datasetId => Dataset) private _datasets;
    mapping(uint256 datasetId => address[]) private _recipients;
    mapping(uint256 datasetId => mapping(address account => uint64 bps)) private _explicitUnits;

    constructor() EIP712("Provena DatasetRegistry", "1") {}

    // ------------------------------------------------------------------------------------------ mutations

    /// @inheritdoc IDatasetRegistry
    function register(Registration calldata registration) external returns (uint256 datasetId) {
        return _register(registration, msg.sender);
    }

    /// @inheritdoc IDatasetRegistry
    function registerWithSig(Registration calldata registration, address owner, uint256 deadline, bytes calldata signature)
        external
        returns (uint256 datasetId)
    {
        // Checks
        if (block.timestamp > deadline) revert Errors.DatasetRegistry_SignatureExpired(deadline);
        bytes32 digest = _hashTypedDataV4(_registrationStructHash(registration, owner, _useNonce(owner), deadline));
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert Errors.DatasetRegistry_InvalidSignature(owner);
        }
        // Effects
        return _register(registration, owner);
    }

    /// @inheritdoc IDatasetRegistry
    function update(uint256 datasetId, uint128 pricePerSample, string calldata manifestCid) external {
        // Checks (owner here; listing, price and manifest in _update)
        Dataset storage dataset = _existing(datasetId);
        if (dataset.owner != msg.sender) revert Errors.DatasetRegistry_NotOwner(datasetId, msg.sender);
        _update(dataset, datasetId, pricePerSample, manifestCid);
    }

    /// @inheritdoc IDatasetRegistry
    function updateWithSig(
        uint256 datasetId,
        uint128 pricePerSample,
        string calldata manifestCid,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // Checks (signature by the current owner here; listing, price and manifest in _update)
        if (block.timestamp > deadline) revert Errors.DatasetRegistry_SignatureExpired(deadline);
        Dataset storage dataset = _existing(datasetId);
        address owner = dataset.owner;
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    UPDATE_TYPEHASH,
                    datasetId,
                    pricePerSample,
                    keccak256(bytes(manifestCid)),
                    _useNonce(owner),
                    deadline
                )
            )
        );
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert Errors.DatasetRegistry_InvalidSignature(owner);
        }
        _update(dataset, datasetId, pricePerSample, manifestCid);
    }

    /// @inheritdoc IDatasetRegistry
    function delist(uint256 datasetId) external {
        // Checks
        Dataset storage dataset = _ownedListed(datasetId);
        // Effects
        dataset.listed = false;
        emit DatasetDelisted(datasetId);
    }

    // ------------------------------------------------------------------------------------------ views

    /// @inheritdoc IDatasetRegistry
    function getDataset(uint256 datasetId) external view returns (Dataset memory) {
        return _existing(datasetId);
    }

    /// @inheritdoc IDatasetRegistry
    function saleTerms(uint256 datasetId)
        external
        view
        returns (bool listed, uint128 pricePerSample, uint64 totalUnits, bytes32 merkleRoot)
    {
        Dataset storage dataset = _existing(datasetId);
        return (dataset.listed, dataset.pricePerSample, dataset.totalUnits, dataset.merkleRoot);
    }

    /// @inheritdoc IDatasetRegistry
    function explicitUnits(uint256 datasetId, address account) external view returns (uint64) {
        return _explicitUnits[datasetId][account];
    }

    /// @inheritdoc IDatasetRegistry
    function recipientsOf(uint256 datasetId) external view returns (address[] memory) {
        return _recipients[datasetId];
    }

    /// @inheritdoc IDatasetRegistry
    function nonces(address owner) public view override(IDatasetRegistry, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IDatasetRegistry
    function datasetCount() external view returns (uint256) {
        return _datasetCount;
    }

    /// @inheritdoc IDatasetRegistry
    function datasetOwner(uint256 datasetId) external view returns (address) {
        return _datasets[datasetId].owner;
    }

    /// @notice The EIP-712 domain separator (name "Provena DatasetRegistry", version "1").
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------------------------------ internals

    function _register(Registration calldata registration, address owner) private returns (uint256 datasetId) {
        // Checks
        if (bytes(registration.manifestCid).length == 0) revert Errors.DatasetRegistry_EmptyManifest();
        if (registration.pricePerSample == 0) revert Errors.DatasetRegistry_ZeroPrice();
        if (registration.pricePerSample > MAX_PRICE_PER_SAMPLE) {
            revert Errors.DatasetRegistry_PriceTooLarge(registration.pricePerSample, MAX_PRICE_PER_SAMPLE);
        }
        Split calldata split = registration.split;
        bool isMerkle = split.merkleRoot != bytes32(0);
        if (isMerkle) {
            if (split.totalUnits == 0 || split.recipients.length != 0 || split.bps.length != 0) {
                revert Errors.DatasetRegistry_InvalidSplit();
            }
        } else {
            uint256 n = split.recipients.length;
            if (n == 0 || n != split.bps.length || split.totalUnits != 0) revert Errors.DatasetRegistry_InvalidSplit();
            if (n > MAX_EXPLICIT_RECIPIENTS) revert Errors.DatasetRegistry_TooManyRecipients(n, MAX_EXPLICIT_RECIPIENTS);
        }

        // Effects
        datasetId = ++_datasetCount;
        if (!isMerkle) {
            uint256 sum;
            for (uint256 i; i < split.recipients.length; ++i) {
                address recipient = split.recipients[i];
                uint16 bps = split.bps[i];
                if (recipient == address(0) || bps == 0) revert Errors.DatasetRegistry_InvalidSplit();
                if (_explicitUnits[datasetId][recipient] != 0) revert Errors.DatasetRegistry_DuplicateRecipient(recipient);
                _explicitUnits[datasetId][recipient] = bps;
                sum += bps;
            }
            if (sum != BPS) revert Errors.DatasetRegistry_BpsSumNot10000(sum);
            _recipients[datasetId] = split.recipients;
        }
        uint64 totalUnits = isMerkle ? split.totalUnits : BPS;
        _datasets[datasetId] = Dataset({
            owner: owner,
            version: 1,
            listed: true,
            pricePerSample: registration.pricePerSample,
            totalUnits: totalUnits,
            merkleRoot: split.merkleRoot,
            manifestCid: registration.manifestCid
        });
        emit DatasetRegistered(
            datasetId, owner, registration.manifestCid, registration.pricePerSample, split.merkleRoot, totalUnits
        );
    }

    /// @dev The checks and effects shared by {update} and {updateWithSig}, once the caller's authority is checked.
    function _update(Dataset storage dataset, uint256 datasetId, uint128 pricePerSample, string calldata manifestCid)
        private
    {
        // Checks
        if (!dataset.listed) revert Errors.DatasetRegistry_AlreadyDelisted(datasetId);
        if (pricePerSample == 0) revert Errors.DatasetRegistry_ZeroPrice();
        if (pricePerSample > MAX_PRICE_PER_SAMPLE) revert Errors.DatasetRegistry_PriceTooLarge(pricePerSample, MAX_PRICE_PER_SAMPLE);
        if (bytes(manifestCid).length == 0) revert Errors.DatasetRegistry_EmptyManifest();
        // Effects
        uint64 version = dataset.version + 1;
        dataset.version = version;
        dataset.pricePerSample = pricePerSample;
        dataset.manifestCid = manifestCid;
        emit DatasetUpdated(datasetId, version, manifestCid, pricePerSample);
    }

    function _registrationStructHash(Registration calldata r, address owner, uint256 nonce, uint256 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                REGISTRATION_TYPEHASH,
                owner,
                keccak256(bytes(r.manifestCid)),
                uint256(r.pricePerSample),
                keccak256(abi.encodePacked(r.split.recipients)),
                keccak256(abi.encodePacked(r.split.bps)),
                r.split.merkleRoot,
                r.split.totalUnits,
                nonce,
                deadline
            )
        );
    }

    function _existing(uint256 datasetId) private view returns (Dataset storage dataset) {
        dataset = _datasets[datasetId];
        if (dataset.owner == address(0)) revert Errors.DatasetRegistry_UnknownDataset(datasetId);
    }

    function _ownedListed(uint256 datasetId) private view returns (Dataset storage dataset) {
        dataset = _existing(datasetId);
        if (dataset.owner != msg.sender) revert Errors.DatasetRegistry_NotOwner(datasetId, msg.sender);
        if (!dataset.listed) revert Errors.DatasetRegistry_AlreadyDelisted(datasetId);
    }
}
