// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

// Shared structs, errors and the capacity math of the zgrid contracts. Sizes are bytes.

struct Resources { uint64 cru; uint64 mru; uint64 sru; uint64 hru; }
struct Location { string city; string country; string latitude; string longitude; }
struct PublicConfig { string ip4; string gw4; string ip6; string gw6; string domain; }
struct Interface { string name; string mac; string[] ips; }

struct NodeInput {
  uint32 farmId;
  Resources resources;
  Location location;
  PublicConfig publicConfig;
  Interface[] interfaces;
  bool secureBoot;
  bool virtualized;
  string serial;
}

/// The prices of a pricing policy, without its name (cheap to read from another contract).
struct Prices { uint64 su; uint64 cu; uint64 nu; uint64 ipu; uint64 uniqueName; }

/// What the contracts module needs to know about a node, in one call.
struct NodeFacts {
  bool exists;
  uint32 farmId;
  uint32 twinId;
  bool standby;
  bool dedicated;
  address farmerAccount;
  uint32 pricingPolicyId;
  Resources resources;
  bool powerStateUp;
}

struct PricingPolicy {
  uint32 id;
  string name;
  uint64 su;          // units USD (1e-7 USD) per SU per hour
  uint64 cu;          // per CU per hour
  uint64 nu;          // per GiB of network traffic
  uint64 ipu;         // per public IPv4 per hour
  uint64 uniqueName;  // per name contract per hour
}

// ---- errors (decoded by the TypeScript client into typed errors) ----
error NotAdmin(address account);
error NotContractsModule(address account);
error NoTwin(address account);
error TwinExists(address account, uint32 twinId);
error TwinNotFound(uint32 twinId);
error InvalidFarmName(string name);
error FarmNameTaken(string name, uint32 farmId);
error FarmNotFound(uint32 farmId);
error NotFarmer(uint32 farmId, uint32 twinId);
error IpExists(uint32 farmId, string ip);
error IpNotFound(uint32 farmId, string ip);
error IpInUse(uint32 farmId, string ip, uint64 contractId);
error NotEnoughFreeIps(uint32 farmId, uint32 requested, uint32 free);
error NodeExists(uint32 twinId, uint32 nodeId);
error NodeNotFound(uint32 nodeId);
error NotNodeTwin(uint32 nodeId, uint32 twinId);
error UptimeDrift(uint64 timestamp, uint64 chainTime, uint64 maxDrift);
error NodeHasContracts(uint32 nodeId, uint256 count);
error PricingPolicyNotFound(uint32 id);
error NodeInStandby(uint32 nodeId);
error NodeRentedByOther(uint32 nodeId, uint32 renterTwinId);
error NodeDedicatedNeedsRent(uint32 nodeId, uint32 farmId);
error DuplicateContract(uint32 nodeId, bytes32 deploymentHash, uint64 contractId);
error MetadataTooLong(uint256 length, uint256 max);
error InvalidName(string name);
error NameTaken(string name, uint32 twinId);
error ContractNotFound(uint64 contractId);
error NotContractOwner(uint64 contractId, uint32 twinId);
error ContractInGrace(uint64 contractId);
error ContractNotLive(uint64 contractId);
error NotNodeContract(uint64 contractId);
error NodeAlreadyRented(uint32 nodeId, uint64 contractId);
error RentHasNodeContracts(uint64 contractId, uint256 count);
error InvalidShares(uint16 farmerPct, uint16 burnPct);
error VotingTooShort(uint64 votingSeconds, uint64 minVotingSeconds);
error TargetNotGoverned(address target);
error NotExecutable(uint32 proposalId);
error TimelockActive(uint32 proposalId, uint64 eta);
error AlreadyExecuted(uint32 proposalId);
error CallFailed(uint32 proposalId, bytes reason);
error NotGovernance(address account);
error NotMinter(address account);
error NotCouncil(address account);
error ProposalNotFound(uint32 proposalId);
error VotingClosed(uint32 proposalId, uint64 deadline);
error VotingOpen(uint32 proposalId, uint64 deadline);
error AlreadyVoted(uint32 proposalId, uint32 farmId);
error NoVotingWeight(uint32 farmId);
error BadRelease(string version);
error InsufficientBalance(address account, uint256 balance, uint256 needed);
error InsufficientAllowance(address account, address spender, uint256 allowance, uint256 needed);

/// Capacity units in exact integer arithmetic over bytes (GiB = 2^30 bytes):
///   SU * 1200 GiB = hru + 6*sru
///   CU * 8 GiB    = min(max(2*mru, 4*cru*GiB), max(mru, 8*cru*GiB), max(4*mru, 2*cru*GiB))
library CapacityMath {
  uint256 internal constant GIB = 1 << 30;

  function suNumerator(Resources memory r) internal pure returns (uint256) {
    return uint256(r.hru) + 6 * uint256(r.sru);
  }

  function cuNumerator(Resources memory r) internal pure returns (uint256) {
    uint256 m = r.mru;
    uint256 c = uint256(r.cru) * GIB;
    uint256 a = max(2 * m, 4 * c);
    uint256 b = max(m, 8 * c);
    uint256 d = max(4 * m, 2 * c);
    return min(a, min(b, d));
  }

  /// SU and CU in units of 1e-9, rounded down.
  function suNano(Resources memory r) internal pure returns (uint256) { return suNumerator(r) * 1e9 / (1200 * GIB); }
  function cuNano(Resources memory r) internal pure returns (uint256) { return cuNumerator(r) * 1e9 / (8 * GIB); }

  /// Governance weight 2*CU + SU in units of 1e-3, rounded down.
  function weightMilli(Resources memory r) internal pure returns (uint256) {
    return (2400 * cuNumerator(r) + 8 * suNumerator(r)) * 1000 / (9600 * GIB);
  }

  function max(uint256 a, uint256 b) private pure returns (uint256) { return a > b ? a : b; }
  function min(uint256 a, uint256 b) private pure returns (uint256) { return a < b ? a : b; }
}

library NameRules {
  /// [A-Za-z0-9-_] when `upper`, [a-z0-9-_] otherwise, between min and max bytes.
  function valid(bytes memory b, uint256 min, uint256 max, bool upper) internal pure returns (bool) {
    if (b.length < min || b.length > max) return false;
    for (uint256 i = 0; i < b.length; i++) {
      bytes1 c = b[i];
      bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" || c == "_" || (upper && c >= "A" && c <= "Z");
      if (!ok) return false;
    }
    return true;
  }
}

interface IGridContracts {
  function liveContractCount(uint32 nodeId) external view returns (uint256);
  function accrueRent(uint32 nodeId) external;
}
