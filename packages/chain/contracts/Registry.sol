// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import "./GridTypes.sol";

/// Twins, farms (with their public IP pools), nodes (resources, power, uptime) and pricing policies.
contract Registry {
  struct Twin { uint32 id; address account; string peerId; string[] relays; }
  struct PublicIp { string ip; string gateway; uint64 contractId; }
  struct Farm {
    uint32 id; uint32 twinId; string name; uint32 pricingPolicyId; bool dedicated; uint32 nodeCount;
    uint256 weightMilli; // sum of the farm's nodes' 2*CU+SU, for governance votes
  }
  struct Node {
    uint32 id; uint32 farmId; uint32 twinId;
    Resources resources; Location location; PublicConfig publicConfig;
    bool secureBoot; bool virtualized; string serial;
    uint64 createdAt; uint64 updatedAt;
    uint64 uptime; uint64 lastUptimeReport;
    bool powerTargetUp; bool powerStateUp; uint64 powerChangedAt;
  }

  uint64 public constant MAX_UPTIME_DRIFT = 60;
  address public admin;
  IGridContracts public contractsModule;

  uint32 public twinCount;
  uint32 public farmCount;
  uint32 public nodeCount;
  uint32 public pricingPolicyCount;
  mapping(uint32 => Twin) private twins;
  mapping(address => uint32) public twinIdByAccount;
  mapping(uint32 => Farm) private farms;
  mapping(uint32 => PublicIp[]) private farmIps;
  mapping(bytes32 => uint32) public farmIdByName;
  mapping(uint32 => Node) private nodes;
  mapping(uint32 => Interface[]) private nodeInterfaces;
  mapping(uint32 => uint32) public nodeIdByTwin;
  mapping(uint32 => PricingPolicy) private policies;

  event TwinStored(uint32 indexed twinId, address indexed account, string peerId, string[] relays);
  event FarmStored(uint32 indexed farmId, uint32 indexed twinId, string name, uint32 pricingPolicyId, bool dedicated);
  event FarmIpAdded(uint32 indexed farmId, string ip, string gateway);
  event FarmIpRemoved(uint32 indexed farmId, string ip);
  event FarmIpReserved(uint32 indexed farmId, uint64 indexed contractId, string ip);
  event FarmIpReleased(uint32 indexed farmId, uint64 indexed contractId, string ip);
  event NodeStored(uint32 indexed nodeId, uint32 indexed farmId, uint32 indexed twinId, bool created);
  event NodeDeleted(uint32 indexed nodeId, uint32 indexed farmId, uint32 indexed twinId);
  event NodeUptimeReported(uint32 indexed nodeId, uint64 uptime, uint64 timestamp);
  event NodePowerTargetChanged(uint32 indexed nodeId, uint32 indexed farmId, bool up);
  event NodePowerStateChanged(uint32 indexed nodeId, uint32 indexed farmId, bool up);
  event PricingPolicyStored(uint32 indexed policyId);
  event ContractsModuleSet(address module);

  constructor(PricingPolicy memory defaultPolicy) {
    admin = msg.sender;
    _storePolicy(defaultPolicy);
  }

  event AdminChanged(address admin);

  modifier onlyAdmin() { if (msg.sender != admin) revert NotAdmin(msg.sender); _; }
  /// Hands the admin powers to another account: at setup, to the Governance contract, after which
  /// only an approved, timelocked proposal can use them (no single key rules the grid).
  function setAdmin(address admin_) external onlyAdmin {
    admin = admin_;
    emit AdminChanged(admin_);
  }

  modifier onlyContracts() { if (msg.sender != address(contractsModule)) revert NotContractsModule(msg.sender); _; }

  function setContractsModule(IGridContracts module) external onlyAdmin {
    contractsModule = module;
    emit ContractsModuleSet(address(module));
  }

  // ---------------- twins ----------------
  function createTwin(string calldata peerId, string[] calldata relays) external returns (uint32 id) {
    uint32 existing = twinIdByAccount[msg.sender];
    if (existing != 0) revert TwinExists(msg.sender, existing);
    id = ++twinCount;
    Twin storage t = twins[id];
    t.id = id; t.account = msg.sender;
    twinIdByAccount[msg.sender] = id;
    _setTwin(t, peerId, relays);
  }

  function updateTwin(string calldata peerId, string[] calldata relays) external {
    _setTwin(twins[senderTwin()], peerId, relays);
  }

  function _setTwin(Twin storage t, string calldata peerId, string[] calldata relays) private {
    t.peerId = peerId;
    delete t.relays;
    for (uint256 i = 0; i < relays.length; i++) t.relays.push(relays[i]);
    emit TwinStored(t.id, t.account, peerId, relays);
  }

  function getTwin(uint32 id) external view returns (Twin memory) {
    if (twins[id].id == 0) revert TwinNotFound(id);
    return twins[id];
  }

  function twinAccount(uint32 id) external view returns (address) { return twins[id].account; }

  function senderTwin() public view returns (uint32 id) {
    id = twinIdByAccount[msg.sender];
    if (id == 0) revert NoTwin(msg.sender);
  }

  // ---------------- farms ----------------
  function createFarm(string calldata name, bool dedicated) external returns (uint32 id) {
    uint32 twinId = senderTwin();
    if (!NameRules.valid(bytes(name), 3, 40, true)) revert InvalidFarmName(name);
    bytes32 key = keccak256(bytes(name));
    if (farmIdByName[key] != 0) revert FarmNameTaken(name, farmIdByName[key]);
    id = ++farmCount;
    farmIdByName[key] = id;
    Farm storage f = farms[id];
    f.id = id; f.twinId = twinId; f.name = name; f.pricingPolicyId = 1; f.dedicated = dedicated;
    emit FarmStored(id, twinId, name, 1, dedicated);
  }

  function setFarmDedicated(uint32 farmId, bool dedicated) external {
    Farm storage f = _farmOfFarmer(farmId);
    f.dedicated = dedicated;
    emit FarmStored(farmId, f.twinId, f.name, f.pricingPolicyId, dedicated);
  }

  function setFarmPricingPolicy(uint32 farmId, uint32 policyId) external onlyAdmin {
    Farm storage f = _farm(farmId);
    if (policies[policyId].id == 0) revert PricingPolicyNotFound(policyId);
    f.pricingPolicyId = policyId;
    emit FarmStored(farmId, f.twinId, f.name, policyId, f.dedicated);
  }

  function addFarmIp(uint32 farmId, string calldata ip, string calldata gateway) external {
    _farmOfFarmer(farmId);
    PublicIp[] storage pool = farmIps[farmId];
    bytes32 key = keccak256(bytes(ip));
    for (uint256 i = 0; i < pool.length; i++) if (keccak256(bytes(pool[i].ip)) == key) revert IpExists(farmId, ip);
    pool.push(PublicIp(ip, gateway, 0));
    emit FarmIpAdded(farmId, ip, gateway);
  }

  function removeFarmIp(uint32 farmId, string calldata ip) external {
    _farmOfFarmer(farmId);
    PublicIp[] storage pool = farmIps[farmId];
    bytes32 key = keccak256(bytes(ip));
    for (uint256 i = 0; i < pool.length; i++) {
      if (keccak256(bytes(pool[i].ip)) != key) continue;
      if (pool[i].contractId != 0) revert IpInUse(farmId, ip, pool[i].contractId);
      pool[i] = pool[pool.length - 1];
      pool.pop();
      emit FarmIpRemoved(farmId, ip);
      return;
    }
    revert IpNotFound(farmId, ip);
  }

  function farmWeightAndTwin(uint32 farmId) external view returns (uint256 weightMilli, uint32 twinId) {
    return (farms[farmId].weightMilli, farms[farmId].twinId);
  }

  function getFarm(uint32 farmId) external view returns (Farm memory farm, PublicIp[] memory publicIps) {
    return (_farm(farmId), farmIps[farmId]);
  }

  /// Reserves `count` free IPs of the node's farm for a contract (contracts module only).
  function reserveIps(uint32 farmId, uint32 count, uint64 contractId)
    external onlyContracts returns (string[] memory ips, string[] memory gateways)
  {
    PublicIp[] storage pool = farmIps[farmId];
    ips = new string[](count);
    gateways = new string[](count);
    uint32 found = 0;
    for (uint256 i = 0; i < pool.length && found < count; i++) {
      if (pool[i].contractId != 0) continue;
      pool[i].contractId = contractId;
      ips[found] = pool[i].ip; gateways[found] = pool[i].gateway;
      found++;
      emit FarmIpReserved(farmId, contractId, pool[i].ip);
    }
    if (found < count) revert NotEnoughFreeIps(farmId, count, found);
  }

  function releaseIps(uint32 farmId, uint64 contractId) external onlyContracts {
    PublicIp[] storage pool = farmIps[farmId];
    for (uint256 i = 0; i < pool.length; i++) {
      if (pool[i].contractId != contractId) continue;
      pool[i].contractId = 0;
      emit FarmIpReleased(farmId, contractId, pool[i].ip);
    }
  }

  // ---------------- nodes ----------------
  /// Registers the sender's twin as a node of a farm. One node per twin.
  function registerNode(NodeInput calldata input) external returns (uint32 id) {
    uint32 twinId = senderTwin();
    if (nodeIdByTwin[twinId] != 0) revert NodeExists(twinId, nodeIdByTwin[twinId]);
    _farm(input.farmId);
    id = ++nodeCount;
    nodeIdByTwin[twinId] = id;
    Node storage n = nodes[id];
    n.id = id; n.twinId = twinId; n.createdAt = uint64(block.timestamp);
    n.powerTargetUp = true; n.powerStateUp = true; n.powerChangedAt = uint64(block.timestamp);
    farms[input.farmId].nodeCount++;
    _storeNode(n, input);
    emit NodeStored(id, input.farmId, twinId, true);
  }

  function updateNode(uint32 nodeId, NodeInput calldata input) external {
    Node storage n = _nodeOfSender(nodeId);
    _farm(input.farmId);
    if (input.farmId != n.farmId) {
      if (address(contractsModule) != address(0) && contractsModule.liveContractCount(nodeId) != 0)
        revert NodeHasContracts(nodeId, contractsModule.liveContractCount(nodeId));
      farms[n.farmId].nodeCount--;
      farms[input.farmId].nodeCount++;
    }
    farms[n.farmId].weightMilli -= CapacityMath.weightMilli(n.resources);
    _storeNode(n, input);
    emit NodeStored(nodeId, input.farmId, n.twinId, false);
  }

  function _storeNode(Node storage n, NodeInput calldata input) private {
    n.farmId = input.farmId;
    n.resources = input.resources;
    n.location = input.location;
    n.publicConfig = input.publicConfig;
    n.secureBoot = input.secureBoot; n.virtualized = input.virtualized; n.serial = input.serial;
    n.updatedAt = uint64(block.timestamp);
    farms[input.farmId].weightMilli += CapacityMath.weightMilli(input.resources);
    Interface[] storage ifs = nodeInterfaces[n.id];
    while (ifs.length > 0) ifs.pop();
    for (uint256 i = 0; i < input.interfaces.length; i++) {
      Interface storage s = ifs.push();
      s.name = input.interfaces[i].name; s.mac = input.interfaces[i].mac;
      for (uint256 j = 0; j < input.interfaces[i].ips.length; j++) s.ips.push(input.interfaces[i].ips[j]);
    }
  }

  /// Uptime report from the node's own twin; the timestamp must be within 60 s of chain time.
  function reportUptime(uint64 uptime, uint64 timestamp) external {
    uint32 nodeId = nodeIdByTwin[senderTwin()];
    if (nodeId == 0) revert NodeNotFound(0);
    uint64 nowTs = uint64(block.timestamp);
    uint64 drift = timestamp > nowTs ? timestamp - nowTs : nowTs - timestamp;
    if (drift > MAX_UPTIME_DRIFT) revert UptimeDrift(timestamp, nowTs, MAX_UPTIME_DRIFT);
    Node storage n = nodes[nodeId];
    n.uptime = uptime; n.lastUptimeReport = timestamp;
    emit NodeUptimeReported(nodeId, uptime, timestamp);
  }

  /// The farmer asks a node to go up or down (standby); the node follows and reports its state.
  function setPowerTarget(uint32 nodeId, bool up) external {
    Node storage n = _node(nodeId);
    _farmOfFarmer(n.farmId);
    n.powerTargetUp = up;
    emit NodePowerTargetChanged(nodeId, n.farmId, up);
  }

  function setPowerState(bool up) external {
    uint32 nodeId = nodeIdByTwin[senderTwin()];
    if (nodeId == 0) revert NodeNotFound(0);
    Node storage n = nodes[nodeId];
    if (n.powerStateUp == up) return;
    // rent is billed only while the node is up: settle the elapsed time at the old state first
    if (address(contractsModule) != address(0)) contractsModule.accrueRent(nodeId);
    n.powerStateUp = up; n.powerChangedAt = uint64(block.timestamp);
    emit NodePowerStateChanged(nodeId, n.farmId, up);
  }

  /// Deletes a node (its twin or its farmer); refused while it has live contracts.
  function deleteNode(uint32 nodeId) external {
    Node storage n = _node(nodeId);
    uint32 sender = senderTwin();
    if (sender != n.twinId && sender != farms[n.farmId].twinId) revert NotNodeTwin(nodeId, sender);
    uint256 live = address(contractsModule) == address(0) ? 0 : contractsModule.liveContractCount(nodeId);
    if (live != 0) revert NodeHasContracts(nodeId, live);
    Farm storage f = farms[n.farmId];
    f.nodeCount--;
    f.weightMilli -= CapacityMath.weightMilli(n.resources);
    uint32 farmId = n.farmId; uint32 twinId = n.twinId;
    delete nodeIdByTwin[twinId];
    delete nodeInterfaces[nodeId];
    delete nodes[nodeId];
    emit NodeDeleted(nodeId, farmId, twinId);
  }

  function getNode(uint32 nodeId) external view returns (Node memory node, Interface[] memory interfaces) {
    return (_node(nodeId), nodeInterfaces[nodeId]);
  }

  function nodeFacts(uint32 nodeId) external view returns (NodeFacts memory f) {
    Node storage n = nodes[nodeId];
    if (n.id == 0) return f;
    Farm storage farm = farms[n.farmId];
    f.exists = true; f.farmId = n.farmId; f.twinId = n.twinId;
    f.standby = !n.powerTargetUp || !n.powerStateUp;
    f.powerStateUp = n.powerStateUp;
    f.dedicated = farm.dedicated;
    f.farmerAccount = twins[farm.twinId].account;
    f.pricingPolicyId = farm.pricingPolicyId;
    f.resources = n.resources;
  }

  // ---------------- pricing ----------------
  function setPricingPolicy(PricingPolicy calldata p) external onlyAdmin returns (uint32) {
    return _storePolicy(p);
  }

  function _storePolicy(PricingPolicy memory p) private returns (uint32 id) {
    id = p.id;
    if (id == 0) id = ++pricingPolicyCount;
    else if (policies[id].id == 0) revert PricingPolicyNotFound(id);
    p.id = id;
    policies[id] = p;
    emit PricingPolicyStored(id);
  }

  function pricesOf(uint32 id) external view returns (Prices memory) {
    PricingPolicy storage p = policies[id];
    if (p.id == 0) revert PricingPolicyNotFound(id);
    return Prices(p.su, p.cu, p.nu, p.ipu, p.uniqueName);
  }

  function getPricingPolicy(uint32 id) external view returns (PricingPolicy memory) {
    if (policies[id].id == 0) revert PricingPolicyNotFound(id);
    return policies[id];
  }

  // ---------------- capacity math (views for clients and tests) ----------------
  function capacityUnits(Resources calldata r) external pure returns (uint256 suNano, uint256 cuNano, uint256 suNum, uint256 cuNum) {
    return (CapacityMath.suNano(r), CapacityMath.cuNano(r), CapacityMath.suNumerator(r), CapacityMath.cuNumerator(r));
  }

  // ---------------- helpers ----------------
  function _farm(uint32 farmId) private view returns (Farm storage f) {
    f = farms[farmId];
    if (f.id == 0) revert FarmNotFound(farmId);
  }

  function _farmOfFarmer(uint32 farmId) private view returns (Farm storage f) {
    f = _farm(farmId);
    uint32 sender = senderTwin();
    if (f.twinId != sender) revert NotFarmer(farmId, sender);
  }

  function _node(uint32 nodeId) private view returns (Node storage n) {
    n = nodes[nodeId];
    if (n.id == 0) revert NodeNotFound(nodeId);
  }

  function _nodeOfSender(uint32 nodeId) private view returns (Node storage n) {
    n = _node(nodeId);
    uint32 sender = senderTwin();
    if (n.twinId != sender) revert NotNodeTwin(nodeId, sender);
  }
}
