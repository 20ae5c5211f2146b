/**
 * Applies one grid event to the explorer's tables. The same function runs live and when a reorg
 * rebuilds the tables from the stored events, so both give the same rows.
 */
import type { Queryable } from "../db/db.ts";
import type { IndexedEvent } from "./chain-source.ts";

const CAUSES = ["", "canceled_by_user", "out_of_funds", "canceled_by_collective"];

const n = (v: unknown): number => Number(v ?? 0);
const s = (v: unknown): string => String(v ?? "");
const b = (v: unknown): number => (v === true || v === "true" ? 1 : 0);

interface NodeSnapshot {
  resources: Record<string, string>; location: Record<string, string>; publicConfig: Record<string, string>;
  secureBoot: boolean; virtualized: boolean; serial: string; createdAt: string; updatedAt: string; powerTargetUp: boolean; powerStateUp: boolean;
}

export async function applyEvent(t: Queryable, e: IndexedEvent, blockTime: number): Promise<void> {
  const a = e.args;
  const block = Number(e.block);
  switch (e.name) {
    case "TwinStored":
      await t.run(`INSERT INTO twins (id, account, peer_id, relays, created_block) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET account = excluded.account, peer_id = excluded.peer_id, relays = excluded.relays`,
      [n(a.twinId), s(a.account), s(a.peerId), JSON.stringify(a.relays ?? []), block]);
      return;
    case "FarmStored":
      await t.run(`INSERT INTO farms (id, twin_id, name, pricing_policy_id, dedicated, created_block) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET twin_id = excluded.twin_id, name = excluded.name, pricing_policy_id = excluded.pricing_policy_id, dedicated = excluded.dedicated`,
      [n(a.farmId), n(a.twinId), s(a.name), n(a.pricingPolicyId), b(a.dedicated), block]);
      return;
    case "FarmIpAdded":
      await t.run(`INSERT INTO farm_ips (farm_id, ip, gateway, contract_id) VALUES (?, ?, ?, 0)
        ON CONFLICT (farm_id, ip) DO UPDATE SET gateway = excluded.gateway`, [n(a.farmId), s(a.ip), s(a.gateway)]);
      return;
    case "FarmIpRemoved":
      await t.run("DELETE FROM farm_ips WHERE farm_id = ? AND ip = ?", [n(a.farmId), s(a.ip)]);
      return;
    case "FarmIpReserved":
    case "FarmIpReleased":
      await t.run("UPDATE farm_ips SET contract_id = ? WHERE farm_id = ? AND ip = ?",
        [e.name === "FarmIpReserved" ? n(a.contractId) : 0, n(a.farmId), s(a.ip)]);
      return;
    case "NodeStored": {
      const x = a.node as NodeSnapshot | undefined;
      if (!x) throw new Error(`NodeStored of node ${n(a.nodeId)} in block ${block} was not enriched`);
      const r = x.resources, l = x.location, p = x.publicConfig;
      await t.run(`INSERT INTO nodes (id, farm_id, twin_id, cru, mru, sru, hru, country, city, latitude, longitude, ip4, gw4, ip6, gw6, domain,
          secure_boot, virtualized, serial, created_at, updated_at, uptime, last_uptime_report, power_target_up, power_state_up, power_changed_at,
          rent_contract_id, rented_by, deleted)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 0, 0, 0, 0)
        ON CONFLICT (id) DO UPDATE SET farm_id = excluded.farm_id, twin_id = excluded.twin_id, cru = excluded.cru, mru = excluded.mru,
          sru = excluded.sru, hru = excluded.hru, country = excluded.country, city = excluded.city, latitude = excluded.latitude,
          longitude = excluded.longitude, ip4 = excluded.ip4, gw4 = excluded.gw4, ip6 = excluded.ip6, gw6 = excluded.gw6, domain = excluded.domain,
          secure_boot = excluded.secure_boot, virtualized = excluded.virtualized, serial = excluded.serial, updated_at = excluded.updated_at, deleted = 0`,
      [n(a.nodeId), n(a.farmId), n(a.twinId), n(r.cru), n(r.mru), n(r.sru), n(r.hru), s(l.country), s(l.city), s(l.latitude), s(l.longitude),
        s(p.ip4), s(p.gw4), s(p.ip6), s(p.gw6), s(p.domain), b(x.secureBoot), b(x.virtualized), s(x.serial), n(x.createdAt), n(x.updatedAt),
        b(x.powerTargetUp), b(x.powerStateUp)]);
      return;
    }
    case "NodeDeleted":
      await t.run("UPDATE nodes SET deleted = 1 WHERE id = ?", [n(a.nodeId)]);
      return;
    case "NodeUptimeReported":
      await t.run("UPDATE nodes SET uptime = ?, last_uptime_report = ? WHERE id = ?", [n(a.uptime), n(a.timestamp), n(a.nodeId)]);
      return;
    case "NodePowerTargetChanged":
    case "NodePowerStateChanged": {
      const col = e.name === "NodePowerTargetChanged" ? "power_target_up" : "power_state_up";
      await t.run(`UPDATE nodes SET ${col} = ?, power_changed_at = ? WHERE id = ?`, [b(a.up), blockTime, n(a.nodeId)]);
      return;
    }
    case "NodeContractCreated":
    case "NameContractCreated":
    case "RentContractCreated": {
      const kind = e.name === "NodeContractCreated" ? "node" : e.name === "NameContractCreated" ? "name" : "rent";
      await t.run(`INSERT INTO contracts (id, twin_id, node_id, kind, state, cause, deployment_hash, metadata, name, public_ips,
          cru, mru, sru, hru, network_bytes, billed_units, rate, created_block, created_at)
        VALUES (?, ?, ?, ?, 'created', '', ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [n(a.contractId), n(a.twinId), n(a.nodeId), kind, s(a.deploymentHash), s(a.metadata), s(a.name), n(a.publicIps), s(a.rate ?? "0"), block, blockTime]);
      if (kind === "rent") await t.run("UPDATE nodes SET rent_contract_id = ?, rented_by = ? WHERE id = ?", [n(a.contractId), n(a.twinId), n(a.nodeId)]);
      return;
    }
    case "NodeContractUpdated":
      await t.run("UPDATE contracts SET deployment_hash = ?, metadata = ?, rate = ? WHERE id = ?", [s(a.deploymentHash), s(a.metadata), s(a.rate ?? "0"), n(a.contractId)]);
      return;
    case "ContractResourcesReported":
      await t.run("UPDATE contracts SET cru = ?, mru = ?, sru = ?, hru = ?, rate = ? WHERE id = ?",
        [n(a.cru), n(a.mru), n(a.sru), n(a.hru), s(a.rate ?? "0"), n(a.contractId)]);
      return;
    case "NetworkUsageReported":
      await t.run("UPDATE contracts SET network_bytes = network_bytes + ? WHERE id = ?", [n(a.bytes_), n(a.contractId)]);
      return;
    case "ContractBilled":
      await t.run("UPDATE contracts SET billed_units = billed_units + ? WHERE id = ?", [n(a.units), n(a.contractId)]);
      return;
    case "ContractGracePeriodStarted":
    case "ContractResumed":
      await t.run("UPDATE contracts SET state = ? WHERE id = ?", [e.name === "ContractResumed" ? "created" : "grace_period", n(a.contractId)]);
      return;
    case "ContractDeleted":
      await t.run("UPDATE contracts SET state = 'deleted', cause = ? WHERE id = ?", [CAUSES[n(a.cause)] ?? "unknown", n(a.contractId)]);
      await t.run("UPDATE nodes SET rent_contract_id = 0, rented_by = 0 WHERE rent_contract_id = ?", [n(a.contractId)]);
      return;
    case "ProposalCreated":
      await t.run(`INSERT INTO proposals (id, proposer, version, safe_to_upgrade, deadline, closed, approved, votes) VALUES (?, ?, ?, ?, ?, 0, 0, 0)
        ON CONFLICT (id) DO NOTHING`, [n(a.proposalId), s(a.proposer), s(a.version), b(a.safeToUpgrade), n(a.deadline)]);
      return;
    case "Voted":
      await t.run("UPDATE proposals SET votes = votes + 1 WHERE id = ?", [n(a.proposalId)]);
      return;
    case "ProposalClosed":
      await t.run("UPDATE proposals SET closed = 1, approved = ? WHERE id = ?", [b(a.approved), n(a.proposalId)]);
      return;
    case "ZosVersionChanged":
      await t.run("INSERT INTO meta (k, v) VALUES ('zos_version', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", [JSON.stringify({ version: s(a.version), safeToUpgrade: a.safeToUpgrade === true })]);
      return;
    default:
      return; // token transfers, config changes: kept in `events` only
  }
}
