// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import "./GridTypes.sol";

interface IRegistryFarms {
  function twinIdByAccount(address account) external view returns (uint32);
  function farmWeightAndTwin(uint32 farmId) external view returns (uint256 weightMilli, uint32 twinId);
}

/// Governance of the Zero-OS version: council members propose a version, farmers vote with the
/// capacity (2*CU+SU) of their farm's nodes, an approved proposal sets the version nodes upgrade to.
contract Governance {
  struct Proposal {
    uint32 id; address proposer; string version; bool safeToUpgrade; string description;
    uint64 deadline; uint256 yesWeight; uint256 noWeight; bool closed; bool approved;
  }

  IRegistryFarms public immutable registry;
  address public admin;
  mapping(address => bool) public isCouncil;
  uint32 public proposalCount;
  mapping(uint32 => Proposal) private proposals;
  mapping(uint32 => mapping(uint32 => bool)) public hasVoted;
  string public zosVersion;
  bool public safeToUpgrade;

  event CouncilMemberSet(address indexed account, bool member);
  event ProposalCreated(uint32 indexed proposalId, address indexed proposer, string version, bool safeToUpgrade, uint64 deadline);
  event Voted(uint32 indexed proposalId, uint32 indexed farmId, bool yes, uint256 weightMilli);
  event ProposalClosed(uint32 indexed proposalId, bool approved, uint256 yesWeight, uint256 noWeight);
  event ZosVersionChanged(string version, bool safeToUpgrade);

  constructor(IRegistryFarms registry_, string memory initialVersion) {
    registry = registry_; admin = msg.sender; isCouncil[msg.sender] = true; zosVersion = initialVersion; safeToUpgrade = true;
    emit CouncilMemberSet(msg.sender, true);
    emit ZosVersionChanged(initialVersion, true);
  }

  function setCouncilMember(address account, bool member) external {
    if (msg.sender != admin) revert NotAdmin(msg.sender);
    isCouncil[account] = member;
    emit CouncilMemberSet(account, member);
  }

  function propose(string calldata version, bool safe, string calldata description, uint64 votingSeconds)
    external returns (uint32 id)
  {
    if (!isCouncil[msg.sender]) revert NotCouncil(msg.sender);
    id = ++proposalCount;
    Proposal storage p = proposals[id];
    p.id = id; p.proposer = msg.sender; p.version = version; p.safeToUpgrade = safe; p.description = description;
    p.deadline = uint64(block.timestamp) + votingSeconds;
    emit ProposalCreated(id, msg.sender, version, safe, p.deadline);
  }

  /// A farmer votes for one of its farms, weighted by the farm's capacity at vote time.
  function vote(uint32 proposalId, uint32 farmId, bool yes) external {
    Proposal storage p = _proposal(proposalId);
    if (p.closed || block.timestamp >= p.deadline) revert VotingClosed(proposalId, p.deadline);
    (uint256 weight, uint32 farmerTwin) = registry.farmWeightAndTwin(farmId);
    uint32 sender = registry.twinIdByAccount(msg.sender);
    if (farmerTwin == 0) revert FarmNotFound(farmId);
    if (sender != farmerTwin) revert NotFarmer(farmId, sender);
    if (hasVoted[proposalId][farmId]) revert AlreadyVoted(proposalId, farmId);
    if (weight == 0) revert NoVotingWeight(farmId);
    hasVoted[proposalId][farmId] = true;
    if (yes) p.yesWeight += weight; else p.noWeight += weight;
    emit Voted(proposalId, farmId, yes, weight);
  }

  /// Closes a proposal after its deadline (anyone); approved when yes outweighs no.
  function close(uint32 proposalId) external {
    Proposal storage p = _proposal(proposalId);
    if (p.closed) revert VotingClosed(proposalId, p.deadline);
    if (block.timestamp < p.deadline) revert VotingOpen(proposalId, p.deadline);
    p.closed = true;
    p.approved = p.yesWeight > p.noWeight;
    emit ProposalClosed(proposalId, p.approved, p.yesWeight, p.noWeight);
    if (p.approved) {
      zosVersion = p.version; safeToUpgrade = p.safeToUpgrade;
      emit ZosVersionChanged(p.version, p.safeToUpgrade);
    }
  }

  /// Staged rollout: the council marks the current version safe (or not) for every node.
  function setSafeToUpgrade(bool safe) external {
    if (!isCouncil[msg.sender]) revert NotCouncil(msg.sender);
    safeToUpgrade = safe;
    emit ZosVersionChanged(zosVersion, safe);
  }

  function getProposal(uint32 id) external view returns (Proposal memory) { return _proposal(id); }

  function _proposal(uint32 id) private view returns (Proposal storage p) {
    p = proposals[id];
    if (p.id == 0) revert ProposalNotFound(id);
  }
}
