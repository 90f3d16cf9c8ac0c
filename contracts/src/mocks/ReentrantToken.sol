// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Receiver hook of {ReentrantToken} (ERC-777 style).
interface ITokenReceivedHook {
    function onTokenReceived(address from, uint256 value) external;
}

/// @title ReentrantToken
/// @notice Test token that calls `onTokenReceived` on every receiving contract that opted in, giving it control in
/// the middle of the sender's transfer.
contract ReentrantToken is ERC20 {
    mapping(address => bool) private _hooked;

    constructor() ERC20("Reentrant Token", "REENT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHooked(address account, bool hooked) external {
        _hooked[account] = hooked;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (_hooked[to]) ITokenReceivedHook(to).onTokenReceived(from, value);
    }
}
