// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import "./GridTypes.sol";

interface IRegistry {
  function twinIdByAccount(address account) external view returns (uint32);
  function nodeFacts(uint32 nodeId) external view returns (NodeFacts memory);
  function getPricingPolicy(uint32 id) external view returns (PricingPolicy memory);
  function pricesOf(uint32 id) external view returns (Prices memory);
  function reserveIps(uint32 farmId, uint32 count, uint64 contractId) external returns (string[] memory, string[] memory);
  function releaseIps(uint32 farmId, uint64 contractId) external;
}

interface IGridToken {
  function balanceOf(address account) external view returns (uint256);
  function transferFrom(address from, address to, uint256 value) external returns (bool);
  function burnFrom(address from, uint256 value) external;
  function operatorPay(address from, address to1, uint256 amount1, address to2, uint256 amount2, uint256 burn) external;
}

/// IT contracts (node, name, rent) and their billing in the grid token.
/// Billing is O(1) per contract: each contract keeps a cost rate per second (from the resources its
/// node reports and its public IPs) and the cost owed since it was last charged; `settle` charges it.
contract GridContracts is IGridContracts {
  uint8 public constant KIND_NODE = 0;
  uint8 public constant KIND_NAME = 1;
  uint8 public constant KIND_RENT = 2;
  uint8 public constant STATE_CREATED = 0;
  uint8 public constant STATE_GRACE = 1;
  uint8 public constant STATE_DELETED = 2;
  uint8 public constant CAUSE_CANCELED_BY_USER = 1;
  uint8 public constant CAUSE_OUT_OF_FUNDS = 2;
  uint8 public constant CAUSE_CANCELED_BY_COLLECTIVE = 3;

  uint256 internal constant GIB = 1 << 30;
  /// Rates are units USD per second scaled by DEN, so every price term is an exact integer.
  uint256 public constant DEN = 2 * 3600 * 9600 * GIB;
  /// Owed amounts are scaled by DEN * 100 (the 100 carries the discount percentage).
  uint256 public constant SCALE = DEN * 100;
  uint256 public constant MAX_METADATA = 512;
  uint256 public constant MONTH = 30 days;

  // fields ordered to pack into three storage slots before the hash
  struct Contract {
    uint64 id; uint32 twinId; uint32 nodeId; uint32 farmId; uint32 publicIpCount;
    uint32 nodeTwinId; // the node's twin, which reports usage (fixed for a node)
    uint8 kind; uint8 state; uint8 cause;
    address owner;     // the twin's account, which pays
    uint64 createdAt;
    address payee;     // the farmer's account (0 for name contracts: treasury)
    uint64 graceSince;
    uint32 policyId;
    bytes32 deploymentHash;
    string metadata;
    string name;
  }
  struct Billing { uint256 rate; uint256 owed; uint64 lastAccrued; uint192 totalPaid; }
  struct Positions { uint128 inNode; uint128 inTwin; } // index + 1 in liveByNode / liveByTwin
  struct ContractView {
    Contract c; Resources used; uint64 networkBytes; string[] publicIps; string[] gateways; Billing billing;
  }

  IRegistry public immutable registry;
  IGridToken public immutable token;
  address public admin;
  address public treasury;
  uint16 public farmerPct = 50;
  uint16 public burnPct = 35;       // the rest (15%) goes to the treasury
  uint64 public gracePeriod = 14 days;
  uint256 public tokenPrice = 1e7;  // units USD per whole token (1e7 = 1 USD)

  uint64 public contractCount;
  mapping(uint64 => Contract) private contracts;
  mapping(uint64 => Billing) private billings;
  mapping(uint64 => Resources) private used;
  mapping(uint64 => uint64) private networkBytes;
  mapping(uint64 => string[]) private ips;
  mapping(uint64 => string[]) private gateways;
  mapping(bytes32 => uint64) private liveByNodeHash;
  mapping(bytes32 => uint64) private liveByName;
  mapping(uint32 => uint64) public rentContractOf;
  mapping(uint32 => uint64[]) private liveByNode;
  mapping(uint32 => uint64[]) private liveByTwin;
  mapping(uint64 => Positions) private positions;

  event NodeContractCreated(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, bytes32 deploymentHash, uint32 publicIps, string metadata);
  event NodeContractUpdated(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, bytes32 deploymentHash, string metadata);
  event NameContractCreated(uint64 indexed contractId, uint32 indexed twinId, string name);
  event RentContractCreated(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId);
  event ContractGracePeriodStarted(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, uint64 since);
  event ContractResumed(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId);
  event ContractDeleted(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, uint8 cause);
  event ContractBilled(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, uint256 units, uint256 amount);
  event ContractUnpaid(uint64 indexed contractId, uint32 indexed nodeId, uint32 indexed twinId, uint256 amountDue, uint256 balance);
  event ContractResourcesReported(uint64 indexed contractId, uint32 indexed nodeId, uint64 cru, uint64 mru, uint64 sru, uint64 hru);
  event NetworkUsageReported(uint64 indexed contractId, uint32 indexed nodeId, uint64 bytes_);
  event BillingConfigChanged(address treasury, uint16 farmerPct, uint16 burnPct, uint64 gracePeriod, uint256 tokenPrice);

  constructor(IRegistry registry_, IGridToken token_, address treasury_) {
    registry = registry_; token = token_; admin = msg.sender; treasury = treasury_;
  }

  event AdminChanged(address admin);

  modifier onlyAdmin() { if (msg.sender != admin) revert NotAdmin(msg.sender); _; }

  /// Hands the admin powers to another account: at setup, to the Governance contract, after which
  /// only an approved, timelocked proposal can use them (no single key rules the grid).
  function setAdmin(address admin_) external onlyAdmin {
    admin = admin_;
    emit AdminChanged(admin_);
  }

  // ---------------- create ----------------
  /// Creates a node contract for a deployment (its keccak-256 hash) with `publicIpCount` IPv4s
  /// reserved from the node's farm.
  function createNodeContract(uint32 nodeId, bytes32 deploymentHash, string calldata metadata, uint32 publicIpCount)
    external returns (uint64 id)
  {
    uint32 twinId = _senderTwin();
    if (bytes(metadata).length > MAX_METADATA) revert MetadataTooLong(bytes(metadata).length, MAX_METADATA);
    NodeFacts memory f = registry.nodeFacts(nodeId);
    if (!f.exists) revert NodeNotFound(nodeId);
    if (f.standby) revert NodeInStandby(nodeId);
    uint64 rent = rentContractOf[nodeId];
    if (rent != 0 && contracts[rent].twinId != twinId) revert NodeRentedByOther(nodeId, contracts[rent].twinId);
    if (f.dedicated && rent == 0) revert NodeDedicatedNeedsRent(nodeId, f.farmId);
    bytes32 key = keccak256(abi.encode(nodeId, deploymentHash));
    if (liveByNodeHash[key] != 0) revert DuplicateContract(nodeId, deploymentHash, liveByNodeHash[key]);

    id = _newContract(twinId, KIND_NODE, nodeId, f.farmId, f.farmerAccount);
    Contract storage c = contracts[id];
    c.publicIpCount = publicIpCount; c.nodeTwinId = f.twinId; c.policyId = f.pricingPolicyId;
    c.deploymentHash = deploymentHash;
    if (bytes(metadata).length > 0) c.metadata = metadata;
    liveByNodeHash[key] = id;
    positions[id].inNode = uint128(_push(liveByNode[nodeId], id));
    if (publicIpCount > 0) (ips[id], gateways[id]) = registry.reserveIps(f.farmId, publicIpCount, id);
    billings[id].rate = _nodeContractRate(c, registry.pricesOf(f.pricingPolicyId));
    emit NodeContractCreated(id, nodeId, twinId, deploymentHash, publicIpCount, metadata);
  }

  /// Reserves a unique name ([a-z0-9-_], 3–64) for gateways.
  function createNameContract(string calldata name) external returns (uint64 id) {
    uint32 twinId = _senderTwin();
    if (!NameRules.valid(bytes(name), 3, 64, false)) revert InvalidName(name);
    bytes32 key = keccak256(bytes(name));
    uint64 taken = liveByName[key];
    if (taken != 0) revert NameTaken(name, contracts[taken].twinId);
    id = _newContract(twinId, KIND_NAME, 0, 0, address(0));
    contracts[id].name = name;
    liveByName[key] = id;
    contracts[id].policyId = 1;
    billings[id].rate = uint256(registry.pricesOf(1).uniqueName) * 2 * 9600 * GIB;
    emit NameContractCreated(id, twinId, name);
  }

  /// Rents a whole node (50% off its full price); only the renter may then deploy on it.
  function createRentContract(uint32 nodeId) external returns (uint64 id) {
    uint32 twinId = _senderTwin();
    NodeFacts memory f = registry.nodeFacts(nodeId);
    if (!f.exists) revert NodeNotFound(nodeId);
    if (rentContractOf[nodeId] != 0) revert NodeAlreadyRented(nodeId, rentContractOf[nodeId]);
    if (liveByNode[nodeId].length != 0) revert NodeHasContracts(nodeId, liveByNode[nodeId].length);
    id = _newContract(twinId, KIND_RENT, nodeId, f.farmId, f.farmerAccount);
    rentContractOf[nodeId] = id;
    contracts[id].nodeTwinId = f.twinId; contracts[id].policyId = f.pricingPolicyId;
    Prices memory p = registry.pricesOf(f.pricingPolicyId);
    billings[id].rate = uint256(p.su) * CapacityMath.suNumerator(f.resources) * 8
      + uint256(p.cu) * CapacityMath.cuNumerator(f.resources) * 1200;
    emit RentContractCreated(id, nodeId, twinId);
  }

  function _newContract(uint32 twinId, uint8 kind, uint32 nodeId, uint32 farmId, address payee) private returns (uint64 id) {
    id = ++contractCount;
    Contract storage c = contracts[id];
    c.id = id; c.twinId = twinId; c.kind = kind; c.nodeId = nodeId; c.farmId = farmId;
    c.createdAt = uint64(block.timestamp); c.owner = msg.sender; c.payee = payee;
    billings[id].lastAccrued = uint64(block.timestamp);
    positions[id].inTwin = uint128(_push(liveByTwin[twinId], id));
  }

  // ---------------- update / cancel ----------------
  /// Points a node contract at a new deployment hash (after a deployment update).
  function updateNodeContract(uint64 id, bytes32 deploymentHash, string calldata metadata) external {
    Contract storage c = _ownedLive(id);
    if (c.kind != KIND_NODE) revert NotNodeContract(id);
    if (c.state == STATE_GRACE) revert ContractInGrace(id);
    if (bytes(metadata).length > MAX_METADATA) revert MetadataTooLong(bytes(metadata).length, MAX_METADATA);
    if (deploymentHash != c.deploymentHash) {
      bytes32 key = keccak256(abi.encode(c.nodeId, deploymentHash));
      if (liveByNodeHash[key] != 0) revert DuplicateContract(c.nodeId, deploymentHash, liveByNodeHash[key]);
      delete liveByNodeHash[keccak256(abi.encode(c.nodeId, c.deploymentHash))];
      liveByNodeHash[key] = id;
      c.deploymentHash = deploymentHash;
    }
    c.metadata = metadata;
    emit NodeContractUpdated(id, c.nodeId, c.twinId, deploymentHash, metadata);
  }

  /// Cancels a contract (owner only): charges what is owed (as far as the balance goes), frees its IPs.
  function cancelContract(uint64 id) external {
    Contract storage c = _ownedLive(id);
    if (c.kind == KIND_RENT && liveByNode[c.nodeId].length != 0) revert RentHasNodeContracts(id, liveByNode[c.nodeId].length);
    _accrue(c);
    _chargeFinal(c);
    _delete(c, CAUSE_CANCELED_BY_USER);
  }

  /// Removal by the collective (e.g. for abuse): only through an approved, timelocked governance
  /// proposal, since the admin is the Governance contract after setup.
  function adminCancelContract(uint64 id) external onlyAdmin {
    Contract storage c = contracts[id];
    if (c.id == 0) revert ContractNotFound(id);
    if (c.state == STATE_DELETED) revert ContractNotLive(id);
    _accrue(c);
    _chargeFinal(c);
    _delete(c, CAUSE_CANCELED_BY_COLLECTIVE);
  }

  // ---------------- node reports ----------------
  /// The node's twin reports what a node contract uses now; billing follows from this moment.
  function reportContractResources(uint64 id, Resources calldata r) external {
    _report(_liveNodeContractOfNode(id), r);
  }

  /// Many reports in one transaction (a node reporting all its contracts). Deleted contracts are skipped.
  function reportContractResourcesBatch(uint64[] calldata ids, Resources[] calldata r) external {
    uint32 sender = _senderTwin();
    for (uint256 i = 0; i < ids.length; i++) {
      Contract storage c = contracts[ids[i]];
      if (c.id == 0) revert ContractNotFound(ids[i]);
      if (c.kind != KIND_NODE) revert NotNodeContract(ids[i]);
      if (c.nodeTwinId != sender) revert NotNodeTwin(c.nodeId, sender);
      if (c.state != STATE_DELETED) _report(c, r[i]);
    }
  }

  function _report(Contract storage c, Resources calldata r) private {
    _accrue(c);
    used[c.id] = r;
    billings[c.id].rate = _nodeContractRate(c, registry.pricesOf(c.policyId));
    emit ContractResourcesReported(c.id, c.nodeId, r.cru, r.mru, r.sru, r.hru);
  }

  /// The node's twin reports network traffic (bytes) of a node contract since its last report.
  function reportNetworkUsage(uint64 id, uint64 bytes_) external {
    Contract storage c = _liveNodeContractOfNode(id);
    Prices memory p = registry.pricesOf(c.policyId);
    networkBytes[id] += bytes_;
    uint256 cost = uint256(p.nu) * bytes_ * (DEN / GIB); // DEN-scaled units
    billings[id].owed += cost * _discountPct(token.balanceOf(c.owner), billings[id].rate);
    emit NetworkUsageReported(id, c.nodeId, bytes_);
  }

  /// Called by the registry before a node's power state changes: rent is billed only while up.
  function accrueRent(uint32 nodeId) external {
    if (msg.sender != address(registry)) revert NotContractsModule(msg.sender);
    uint64 rent = rentContractOf[nodeId];
    if (rent != 0) _accrue(contracts[rent]);
  }

  // ---------------- billing ----------------
  /// Charges what a contract owes; anyone may call it. Unpaid -> grace period; paid -> Created;
  /// unpaid after the grace period -> Deleted(OutOfFunds).
  function settle(uint64 id) external returns (bool paid) {
    Contract storage c = contracts[id];
    if (c.id == 0) revert ContractNotFound(id);
    if (c.state == STATE_DELETED) revert ContractNotLive(id);
    uint256 balance = token.balanceOf(c.owner);
    _accrueWith(c, balance);
    Billing storage b = billings[id];
    uint256 units = b.owed / SCALE;
    uint256 amount = units * 1e7 / tokenPrice;
    if (balance >= amount) {
      if (amount > 0) _pay(c, units, amount);
      b.owed -= units * SCALE;
      if (c.state == STATE_GRACE) {
        c.state = STATE_CREATED; c.graceSince = 0;
        emit ContractResumed(id, c.nodeId, c.twinId);
      }
      return true;
    }
    emit ContractUnpaid(id, c.nodeId, c.twinId, amount, balance);
    if (c.state == STATE_CREATED) {
      c.state = STATE_GRACE; c.graceSince = uint64(block.timestamp);
      emit ContractGracePeriodStarted(id, c.nodeId, c.twinId, c.graceSince);
    } else if (block.timestamp >= uint256(c.graceSince) + gracePeriod) {
      _expire(c);
    }
    return false;
  }

  function _expire(Contract storage c) private {
    _chargeFinal(c);
    if (c.kind == KIND_RENT) {
      // the renter's node contracts on the node end with the rent
      uint64[] storage live = liveByNode[c.nodeId];
      while (live.length > 0) {
        Contract storage n = contracts[live[live.length - 1]];
        _accrue(n);
        _chargeFinal(n);
        _delete(n, CAUSE_OUT_OF_FUNDS);
      }
    }
    _delete(c, CAUSE_OUT_OF_FUNDS);
  }

  function _accrue(Contract storage c) private {
    Billing storage b = billings[c.id];
    if (block.timestamp == b.lastAccrued || b.rate == 0) { b.lastAccrued = uint64(block.timestamp); return; }
    _accrueWith(c, token.balanceOf(c.owner));
  }

  /// Adds the cost since the last accrual; the discount follows the balance at this moment.
  function _accrueWith(Contract storage c, uint256 balance) private {
    Billing storage b = billings[c.id];
    uint256 elapsed = block.timestamp - b.lastAccrued;
    if (elapsed == 0) return;
    b.lastAccrued = uint64(block.timestamp);
    uint256 rate = b.rate;
    if (rate == 0) return;
    if (c.kind == KIND_RENT && !registry.nodeFacts(c.nodeId).powerStateUp) return;
    b.owed += rate * elapsed * _discountPct(balance, rate);
  }

  /// Discount by months of cost the balance covers: >=1.5: 20%, >=3: 30%, >=6: 40%, >=18: 60%.
  function _discountPct(uint256 balance, uint256 rate) private view returns (uint256) {
    if (rate == 0) return 100;
    uint256 balance10 = balance * tokenPrice / 1e7 * DEN * 10;
    uint256 monthly = rate * MONTH;
    if (balance10 >= monthly * 180) return 40;
    if (balance10 >= monthly * 60) return 60;
    if (balance10 >= monthly * 30) return 70;
    if (balance10 >= monthly * 15) return 80;
    return 100;
  }

  /// Charges what is owed, or the whole balance when it is less (at cancel / expiry).
  function _chargeFinal(Contract storage c) private {
    Billing storage b = billings[c.id];
    uint256 units = b.owed / SCALE;
    uint256 amount = units * 1e7 / tokenPrice;
    uint256 balance = token.balanceOf(c.owner);
    if (amount > balance) { amount = balance; units = amount * tokenPrice / 1e7; }
    if (amount > 0) _pay(c, units, amount);
    b.owed = 0;
  }

  function _pay(Contract storage c, uint256 units, uint256 amount) private {
    uint256 toFarmer = amount * farmerPct / 100;
    uint256 toBurn = amount * burnPct / 100;
    uint256 toTreasury = amount - toFarmer - toBurn;
    address farmer = c.payee == address(0) ? treasury : c.payee;
    token.operatorPay(c.owner, farmer, toFarmer, treasury, toTreasury, toBurn);
    billings[c.id].totalPaid += uint192(amount);
    emit ContractBilled(c.id, c.nodeId, c.twinId, units, amount);
  }

  function _nodeContractRate(Contract storage c, Prices memory p) private view returns (uint256 rate) {
    rate = uint256(p.ipu) * c.publicIpCount * 2 * 9600 * GIB;
    // on a rented node the rent pays for the capacity
    if (rentContractOf[c.nodeId] == 0) {
      Resources memory r = used[c.id];
      rate += uint256(p.su) * CapacityMath.suNumerator(r) * 16 + uint256(p.cu) * CapacityMath.cuNumerator(r) * 2400;
    }
  }

  function _delete(Contract storage c, uint8 cause) private {
    uint64 id = c.id;
    c.state = STATE_DELETED; c.cause = cause; c.graceSince = 0;
    if (c.kind == KIND_NODE) {
      delete liveByNodeHash[keccak256(abi.encode(c.nodeId, c.deploymentHash))];
      _removeFromNode(c.nodeId, id);
      if (c.publicIpCount > 0) registry.releaseIps(c.farmId, id);
    } else if (c.kind == KIND_NAME) {
      delete liveByName[keccak256(bytes(c.name))];
    } else {
      delete rentContractOf[c.nodeId];
    }
    _removeFromTwin(c.twinId, id);
    emit ContractDeleted(id, c.nodeId, c.twinId, cause);
  }

  // ---------------- admin ----------------
  function setBillingConfig(address treasury_, uint16 farmerPct_, uint16 burnPct_, uint64 gracePeriod_, uint256 tokenPrice_)
    external onlyAdmin
  {
    if (uint256(farmerPct_) + burnPct_ > 100) revert InvalidShares(farmerPct_, burnPct_);
    treasury = treasury_; farmerPct = farmerPct_; burnPct = burnPct_; gracePeriod = gracePeriod_; tokenPrice = tokenPrice_;
    emit BillingConfigChanged(treasury_, farmerPct_, burnPct_, gracePeriod_, tokenPrice_);
  }

  // ---------------- reads ----------------
  function getContract(uint64 id) public view returns (ContractView memory v) {
    if (contracts[id].id == 0) revert ContractNotFound(id);
    v.c = contracts[id]; v.used = used[id]; v.networkBytes = networkBytes[id];
    v.publicIps = ips[id]; v.gateways = gateways[id]; v.billing = billings[id];
  }

  /// Several contracts in one call (a node resyncing all its contracts).
  function getContracts(uint64[] calldata ids) external view returns (ContractView[] memory views) {
    views = new ContractView[](ids.length);
    for (uint256 i = 0; i < ids.length; i++) views[i] = getContract(ids[i]);
  }

  function listNodeContracts(uint32 nodeId) external view returns (uint64[] memory) { return liveByNode[nodeId]; }
  function listTwinContracts(uint32 twinId) external view returns (uint64[] memory) { return liveByTwin[twinId]; }
  function contractIdByNodeHash(uint32 nodeId, bytes32 deploymentHash) external view returns (uint64) {
    return liveByNodeHash[keccak256(abi.encode(nodeId, deploymentHash))];
  }
  function contractIdByName(string calldata name) external view returns (uint64) { return liveByName[keccak256(bytes(name))]; }
  function liveContractCount(uint32 nodeId) external view returns (uint256) {
    return liveByNode[nodeId].length + (rentContractOf[nodeId] != 0 ? 1 : 0);
  }

  // ---------------- helpers ----------------
  function _senderTwin() private view returns (uint32 id) {
    id = registry.twinIdByAccount(msg.sender);
    if (id == 0) revert NoTwin(msg.sender);
  }

  function _ownedLive(uint64 id) private view returns (Contract storage c) {
    c = contracts[id];
    if (c.id == 0) revert ContractNotFound(id);
    uint32 sender = _senderTwin();
    if (c.twinId != sender) revert NotContractOwner(id, sender);
    if (c.state == STATE_DELETED) revert ContractNotLive(id);
  }


  function _liveNodeContractOfNode(uint64 id) private view returns (Contract storage c) {
    c = contracts[id];
    if (c.id == 0) revert ContractNotFound(id);
    if (c.kind != KIND_NODE) revert NotNodeContract(id);
    uint32 sender = _senderTwin();
    if (c.nodeTwinId != sender) revert NotNodeTwin(c.nodeId, sender);
    if (c.state == STATE_DELETED) revert ContractNotLive(id);
  }

  /// Appends to a list; returns the new element's index + 1.
  function _push(uint64[] storage list, uint64 id) private returns (uint256) {
    list.push(id);
    return list.length;
  }

  function _removeFromNode(uint32 nodeId, uint64 id) private {
    uint64[] storage list = liveByNode[nodeId];
    uint256 i = positions[id].inNode;
    if (i == 0) return;
    uint64 last = list[list.length - 1];
    list[i - 1] = last;
    positions[last].inNode = uint128(i);
    list.pop();
    positions[id].inNode = 0;
  }

  function _removeFromTwin(uint32 twinId, uint64 id) private {
    uint64[] storage list = liveByTwin[twinId];
    uint256 i = positions[id].inTwin;
    if (i == 0) return;
    uint64 last = list[list.length - 1];
    list[i - 1] = last;
    positions[last].inTwin = uint128(i);
    list.pop();
    positions[id].inTwin = 0;
  }
}
