// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title ITrainingLicense
/// @notice The ERC-721 that represents a training license. Minted by its LicenseManager only; non-transferable unless
/// an admin enables transfers (the holder receives refunds).
interface ITrainingLicense is IERC721 {
    /// @notice Emitted when transfers were enabled or disabled.
    event TransfersToggled(bool enabled);

    /// @notice Mints license `licenseId` to `to`.
    /// @dev Requirements: caller is the manager.
    function mint(address to, uint256 licenseId) external;

    /// @notice Enables or disables transfers between holders (minting is always possible).
    /// @dev Emits {TransfersToggled}. Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setTransfersEnabled(bool enabled) external;

    /// @notice Whether holders may transfer licenses.
    function transfersEnabled() external view returns (bool);

    /// @notice The LicenseManager allowed to mint.
    function manager() external view returns (address);
}
