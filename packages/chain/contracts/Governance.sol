// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import "./GridTypes.sol";

interface IRegistryFarms {
  function twinIdByAccount(address account) external view returns (uint32);
  function farmWeightAndTwin(uint32 farmId) external view returns (uint256 weightMilli, uint32 twinId);
  function nodeIdByTwin(uint32 twinId) external view returns (uint32);
}

/// Governance of the grid: council members propose, farmers vote with the capacity (2*CU+SU) of
/// their farm's nodes. Two kinds of proposal:
/// - a Zero-OS version: approved, it sets the version nodes upgrade to (waves gate the rollout);
/// - a call: approved, it is queued for `timelockSeconds` (users watch `CallQueued` and can leave
///   before it takes effect), then anyone executes it. After setup this contract is the admin of the
///   Registry, GridContracts and GridToken, so every admin power (pricing policies, the contracts
///   module, billing config, collective cancellation, council membership, the minter) is a call
///   proposal; the deployer keeps nothing.
contract Governance {
  struct Proposal {
    uint32 id; address proposer; string version; bool safeToUpgrade; string description;
    uint64 deadline; uint256 yesWeight; uint256 noWeight; bool closed; bool approved;
  }

  IRegistryFarms public immutable registry;
  mapping(address => bool) public isCouncil;
  uint32 public proposalCount;
  mapping(uint32 => Proposal) private proposals;
  mapping(uint32 => mapping(uint32 => bool)) public hasVoted;
  string public zosVersion;
  bool public safeToUpgrade;
  uint64 public immutable minVotingSeconds;
  uint64 public immutable timelockSeconds;
  struct Call { address target; bytes data; uint64 eta; bool executed; }
  mapping(uint32 => Call) private calls;
  mapping(address => bool) public isGoverned;
  /// A release proposal names the signed release manifest nodes fetch (its BLAKE2b/keccak hash and URL).
  struct Release { bytes32 manifestHash; string manifestUrl; }
  mapping(uint32 => Release) private releases;
  /// The approved release (zero hash for a bare version proposal) and when it was approved: the
  /// nodes' wave order is derived from the hash, the waves' start from the time.
  Release public release;
  uint64 public releaseApprovedAt;
  /// What a node runs and the last version it failed to take (its health gate failed, it rolled back).
  struct NodeVersion { string running; string failed; uint64 at; }
  mapping(uint32 => NodeVersion) private nodeVersions;
  /// Failed health gates of a version (counted once per node); at `unsafeAfterFailures` the
  /// version is marked unsafe (`safeToUpgrade` false): the rollout stops grid-wide.
  mapping(bytes32 => uint32) public failedReports;
  mapping(bytes32 => mapping(uint32 => bool)) private failedBy;
  uint32 public unsafeAfterFailures = 1;

  event CouncilMemberSet(address indexed account, bool member);
  event ProposalCreated(uint32 indexed proposalId, address indexed proposer, string version, bool safeToUpgrade, uint64 deadline);
  event Voted(uint32 indexed proposalId, uint32 indexed farmId, bool yes, uint256 weightMilli);
  event ProposalClosed(uint32 indexed proposalId, bool approved, uint256 yesWeight, uint256 noWeight);
  event ZosVersionChanged(string version, bool safeToUpgrade);
  event CallProposed(uint32 indexed proposalId, address indexed target, bytes4 selector, bytes data);
  event CallQueued(uint32 indexed proposalId, address indexed target, uint64 eta);
  event CallExecuted(uint32 indexed proposalId, address indexed target, bytes4 selector);
  event ReleaseProposed(uint32 indexed proposalId, string version, bytes32 manifestHash, string manifestUrl);
  event ReleaseApproved(string version, bytes32 manifestHash, string manifestUrl);
  event NodeVersionReported(uint32 indexed nodeId, string running, string failed);
  event ReleaseMarkedUnsafe(string version, uint32 failedReports);
  event UnsafeAfterFailuresSet(uint32 count);

  /// `governed`: the contracts whose admin this becomes (calls may target only them and itself).
  constructor(
    IRegistryFarms registry_, string memory initialVersion, address[] memory council, address[] memory governed,
    uint64 minVotingSeconds_, uint64 timelockSeconds_
  ) {
    registry = registry_; zosVersion = initialVersion; safeToUpgrade = true;
    minVotingSeconds = minVotingSeconds_; timelockSeconds = timelockSeconds_;
    for (uint256 i = 0; i < council.length; i++) { isCouncil[council[i]] = true; emit CouncilMemberSet(council[i], true); }
    for (uint256 i = 0; i < governed.length; i++) isGoverned[governed[i]] = true;
    isGoverned[address(this)] = true;
    emit ZosVersionChanged(initialVersion, true);
  }

  /// Only through an executed call proposal.
  function setCouncilMember(address account, bool member) external {
    if (msg.sender != address(this)) revert NotGovernance(msg.sender);
    isCouncil[account] = member;
    emit CouncilMemberSet(account, member);
  }

  function propose(string calldata version, bool safe, string calldata description, uint64 votingSeconds)
    external returns (uint32 id)
  {
    id = _newProposal(description, votingSeconds);
    Proposal storage p = proposals[id];
    p.version = version; p.safeToUpgrade = safe;
    emit ProposalCreated(id, msg.sender, version, safe, p.deadline);
  }

  /// Proposes a release: approved, nodes upgrade to `version` from the manifest at `manifestUrl`
  /// whose hash is `manifestHash` (the manifest, signed by a release key, names the flist).
  function proposeRelease(
    string calldata version, bytes32 manifestHash, string calldata manifestUrl, string calldata description, uint64 votingSeconds
  ) external returns (uint32 id) {
    if (manifestHash == bytes32(0) || bytes(version).length == 0 || bytes(version).length > 64 || bytes(manifestUrl).length > 512) {
      revert BadRelease(version);
    }
    id = _newProposal(description, votingSeconds);
    Proposal storage p = proposals[id];
    p.version = version; p.safeToUpgrade = true;
    releases[id] = Release(manifestHash, manifestUrl);
    emit ProposalCreated(id, msg.sender, version, true, p.deadline);
    emit ReleaseProposed(id, version, manifestHash, manifestUrl);
  }

  function getRelease(uint32 proposalId) external view returns (Release memory) { _proposal(proposalId); return releases[proposalId]; }

  /// A node (its twin) reports the version it runs and, after a failed health gate, the version it
  /// rolled back from. Enough distinct failing nodes mark the approved version unsafe.
  function reportVersion(string calldata running, string calldata failed) external {
    uint32 nodeId = registry.nodeIdByTwin(registry.twinIdByAccount(msg.sender));
    if (nodeId == 0) revert NodeNotFound(0);
    if (bytes(running).length > 64 || bytes(failed).length > 64) revert BadRelease(running);
    nodeVersions[nodeId] = NodeVersion(running, failed, uint64(block.timestamp));
    emit NodeVersionReported(nodeId, running, failed);
    bytes32 key = keccak256(bytes(failed));
    if (bytes(failed).length == 0 || key != keccak256(bytes(zosVersion)) || failedBy[key][nodeId]) return;
    failedBy[key][nodeId] = true;
    uint32 n = ++failedReports[key];
    if (n >= unsafeAfterFailures && safeToUpgrade) {
      safeToUpgrade = false;
      emit ReleaseMarkedUnsafe(failed, n);
      emit ZosVersionChanged(zosVersion, false);
    }
  }

  function getNodeVersion(uint32 nodeId) external view returns (NodeVersion memory) { return nodeVersions[nodeId]; }

  /// Only through an executed call proposal: how many failing nodes stop a rollout.
  function setUnsafeAfterFailures(uint32 count) external {
    if (msg.sender != address(this)) revert NotGovernance(msg.sender);
    if (count == 0) revert BadRelease("");
    unsafeAfterFailures = count;
    emit UnsafeAfterFailuresSet(count);
  }

  /// Proposes calling `target` (a governed contract) with `data` once approved and timelocked.
  function proposeCall(address target, bytes calldata data, string calldata description, uint64 votingSeconds)
    external returns (uint32 id)
  {
    if (!isGoverned[target]) revert TargetNotGoverned(target);
    id = _newProposal(description, votingSeconds);
    calls[id] = Call(target, data, 0, false);
    emit ProposalCreated(id, msg.sender, "", false, proposals[id].deadline);
    emit CallProposed(id, target, bytes4(data.length >= 4 ? bytes4(data[:4]) : bytes4(0)), data);
  }

  /// Runs an approved call after its timelock (anyone may). A reverting call reverts with its reason.
  function execute(uint32 proposalId) external {
    Proposal storage p = _proposal(proposalId);
    Call storage c = calls[proposalId];
    if (c.target == address(0) || !p.approved) revert NotExecutable(proposalId);
    if (c.executed) revert AlreadyExecuted(proposalId);
    if (block.timestamp < c.eta) revert TimelockActive(proposalId, c.eta);
    c.executed = true;
    bytes memory data = c.data;
    (bool ok, bytes memory reason) = c.target.call(data);
    if (!ok) revert CallFailed(proposalId, reason);
    bytes4 selector;
    if (data.length >= 4) assembly { selector := mload(add(data, 32)) }
    emit CallExecuted(proposalId, c.target, selector);
  }

  function getCall(uint32 id) external view returns (Call memory) { _proposal(id); return calls[id]; }

  function _newProposal(string calldata description, uint64 votingSeconds) private returns (uint32 id) {
    if (!isCouncil[msg.sender]) revert NotCouncil(msg.sender);
    if (votingSeconds < minVotingSeconds) revert VotingTooShort(votingSeconds, minVotingSeconds);
    id = ++proposalCount;
    Proposal storage p = proposals[id];
    p.id = id; p.proposer = msg.sender; p.description = description;
    p.deadline = uint64(block.timestamp) + votingSeconds;
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
    if (!p.approved) return;
    Call storage c = calls[proposalId];
    if (c.target != address(0)) {
      c.eta = uint64(block.timestamp) + timelockSeconds;
      emit CallQueued(proposalId, c.target, c.eta);
    } else {
      zosVersion = p.version; safeToUpgrade = p.safeToUpgrade;
      release = releases[proposalId]; releaseApprovedAt = uint64(block.timestamp);
      emit ZosVersionChanged(p.version, p.safeToUpgrade);
      if (release.manifestHash != bytes32(0)) emit ReleaseApproved(p.version, release.manifestHash, release.manifestUrl);
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
