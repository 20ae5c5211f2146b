// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import "./GridTypes.sol";

/// ERC-20 billing token (7 decimals like TFT). The minter mints (the admin — Governance — picks it); the billing module is a trusted
/// operator: it moves and burns a twin's tokens without an allowance, so users never approve.
contract GridToken {
  string public constant name = "zgrid token";
  string public constant symbol = "ZGT";
  uint8 public constant decimals = 7;
  uint256 public totalSupply;
  address public admin;
  address public operator;
  /// Who may mint: nobody on a real grid unless governance says so; the dev chain's faucet account.
  address public minter;
  mapping(address => uint256) public balanceOf;
  mapping(address => mapping(address => uint256)) public allowance;

  event Transfer(address indexed from, address indexed to, uint256 value);
  event Approval(address indexed owner, address indexed spender, uint256 value);
  event OperatorSet(address operator);
  event AdminChanged(address admin);
  event MinterSet(address minter);

  constructor() { admin = msg.sender; }

  /// Hands the admin power (operator and minter choice) to another account: Governance after setup.
  function setAdmin(address admin_) external {
    if (msg.sender != admin) revert NotAdmin(msg.sender);
    admin = admin_;
    emit AdminChanged(admin_);
  }

  function setMinter(address minter_) external {
    if (msg.sender != admin) revert NotAdmin(msg.sender);
    minter = minter_;
    emit MinterSet(minter_);
  }

  function setOperator(address op) external {
    if (msg.sender != admin) revert NotAdmin(msg.sender);
    operator = op;
    emit OperatorSet(op);
  }

  function mint(address to, uint256 value) external {
    if (msg.sender != minter) revert NotMinter(msg.sender);
    totalSupply += value;
    balanceOf[to] += value;
    emit Transfer(address(0), to, value);
  }

  function burnFrom(address from, uint256 value) external {
    if (msg.sender != operator) revert NotContractsModule(msg.sender);
    _take(from, value);
    totalSupply -= value;
    emit Transfer(from, address(0), value);
  }

  /// One debit of `from` paying two accounts and burning a part (billing's payout in one call).
  function operatorPay(address from, address to1, uint256 amount1, address to2, uint256 amount2, uint256 burn) external {
    if (msg.sender != operator) revert NotContractsModule(msg.sender);
    _take(from, amount1 + amount2 + burn);
    if (amount1 > 0) { balanceOf[to1] += amount1; emit Transfer(from, to1, amount1); }
    if (amount2 > 0) { balanceOf[to2] += amount2; emit Transfer(from, to2, amount2); }
    if (burn > 0) { totalSupply -= burn; emit Transfer(from, address(0), burn); }
  }

  function transfer(address to, uint256 value) external returns (bool) {
    _take(msg.sender, value);
    balanceOf[to] += value;
    emit Transfer(msg.sender, to, value);
    return true;
  }

  function approve(address spender, uint256 value) external returns (bool) {
    allowance[msg.sender][spender] = value;
    emit Approval(msg.sender, spender, value);
    return true;
  }

  function transferFrom(address from, address to, uint256 value) external returns (bool) {
    if (msg.sender != operator) {
      uint256 allowed = allowance[from][msg.sender];
      if (allowed < value) revert InsufficientAllowance(from, msg.sender, allowed, value);
      if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
    }
    _take(from, value);
    balanceOf[to] += value;
    emit Transfer(from, to, value);
    return true;
  }

  function _take(address from, uint256 value) private {
    uint256 bal = balanceOf[from];
    if (bal < value) revert InsufficientBalance(from, bal, value);
    unchecked { balanceOf[from] = bal - value; }
  }
}
