// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {ITrainingLicense} from "./interfaces/ITrainingLicense.sol";
import {Errors} from "./libraries/Errors.sol";

/// @title TrainingLicense
/// @notice See {ITrainingLicense}. Deployed by its LicenseManager, which is the only minter.
contract TrainingLicense is ITrainingLicense, ERC721, AccessControl {
    address private immutable _manager;
    bool private _transfersEnabled;

    constructor(address admin) ERC721("Provena Training License", "PTL") {
        _manager = msg.sender;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ITrainingLicense
    function mint(address to, uint256 licenseId) external {
        if (msg.sender != _manager) revert Errors.TrainingLicense_NotManager(msg.sender);
        _mint(to, licenseId);
    }

    /// @inheritdoc ITrainingLicense
    function setTransfersEnabled(bool enabled) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _transfersEnabled = enabled;
        emit TransfersToggled(enabled);
    }

    /// @inheritdoc ITrainingLicense
    function transfersEnabled() external view returns (bool) {
        return _transfersEnabled;
    }

    /// @inheritdoc ITrainingLicense
    function manager() external view returns (address) {
        return _manager;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl, IERC165) returns (bool) {
        return interfaceId == type(ITrainingLicense).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev Mints always pass; holder-to-holder transfers only when enabled. There is no burn.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && !_transfersEnabled) revert Errors.TrainingLicense_NonTransferable(tokenId);
    }
}
