/** Contracts (by twin, node, state, kind) with their list price per hour, and the grid's totals. */
import { RATE_DEN } from "@zgrid/chain";
import type { Db, SqlValue } from "../db/db.ts";
import { paging, type Params } from "./params.ts";
import type { StatusWindows } from "./queries.ts";

/** Units USD (10^-7 USD) per hour for a contract's stored rate (before any discount). */
export function costPerHourUnits(rate: string): number {
  return Number((BigInt(rate || "0") * 3600n) / RATE_DEN);
}

export async function listContracts(db: Db, p: Params): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const where: string[] = [];
  const args: SqlValue[] = [];
  for (const k of ["twin_id", "node_id"] as const) if (p[k] !== undefined) { where.push(`${k} = ?`); args.push(p[k] as number); }
  if (p.contract_id !== undefined) { where.push("id = ?"); args.push(p.contract_id as number); }
  if (p.state !== undefined) { where.push("state = ?"); args.push(p.state as string); }
  if (p.kind !== undefined) { where.push("kind = ?"); args.push(p.kind as string); }
  const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const { limit, offset } = paging(p);
  const [count] = await db.all<{ c: number }>(`SELECT COUNT(*) AS c FROM contracts ${w}`, args);
  const rows = await db.all<Record<string, unknown>>(`SELECT id, twin_id, node_id, kind, state, cause, deployment_hash, metadata, name, public_ips,
      cru, mru, sru, hru, network_bytes, billed_units, rate, created_block, created_at FROM contracts ${w} ORDER BY id DESC LIMIT ? OFFSET ?`, [...args, limit, offset]);
  const items = rows.map((r) => {
    const n = (k: string) => Number(r[k]);
    const perHour = r.state === "deleted" ? 0 : costPerHourUnits(String(r.rate));
    return {
      id: n("id"), twin_id: n("twin_id"), node_id: n("node_id") || null, kind: r.kind, state: r.state, cause: r.cause || null,
      deployment_hash: r.deployment_hash || null, metadata: r.metadata, name: r.name || null, public_ips: n("public_ips"),
      used: { cru: n("cru"), mru: n("mru"), sru: n("sru"), hru: n("hru") }, network_bytes: n("network_bytes"),
      billed_units: n("billed_units"), cost_per_hour_units: perHour, cost_per_hour_usd: perHour / 1e7,
      created_block: n("created_block"), created_at: n("created_at"),
    };
  });
  return { total: Number(count?.c ?? 0), items };
}

/** Totals for the overview page. */
export async function gridStats(db: Db, w: StatusWindows): Promise<Record<string, unknown>> {
  const now = Date.now();
  const [s] = await db.all<Record<string, number>>(`SELECT
      SUM(CASE WHEN n.power_target_up = 0 OR n.power_state_up = 0 THEN 1 ELSE 0 END) AS standby,
      SUM(CASE WHEN NOT (n.power_target_up = 0 OR n.power_state_up = 0) AND COALESCE(l.last_seen, 0) >= ? AND n.last_uptime_report >= ? THEN 1 ELSE 0 END) AS up,
      COUNT(*) AS nodes, SUM(n.cru) AS cru, SUM(n.mru) AS mru, SUM(n.sru) AS sru, SUM(n.hru) AS hru,
      SUM(COALESCE(l.used_cru, 0)) AS used_cru, SUM(COALESCE(l.used_mru, 0)) AS used_mru, SUM(COALESCE(l.used_sru, 0)) AS used_sru, SUM(COALESCE(l.used_hru, 0)) AS used_hru,
      SUM(COALESCE(l.deployments, 0)) AS deployments, COUNT(DISTINCT CASE WHEN n.country <> '' THEN n.country END) AS countries
    FROM nodes n LEFT JOIN node_live l ON l.node_id = n.id WHERE n.deleted = 0`, [now - w.liveWindowMs, Math.floor(now / 1000) - w.uptimeWindowSec]);
  const [c] = await db.all<Record<string, number>>(`SELECT COUNT(*) AS total,
      SUM(CASE WHEN state = 'created' THEN 1 ELSE 0 END) AS active, SUM(CASE WHEN state = 'grace_period' THEN 1 ELSE 0 END) AS grace_period,
      SUM(CASE WHEN state = 'deleted' THEN 1 ELSE 0 END) AS deleted FROM contracts`);
  const [f] = await db.all<{ farms: number }>("SELECT COUNT(*) AS farms FROM farms");
  const [t] = await db.all<{ twins: number }>("SELECT COUNT(*) AS twins FROM twins");
  const [ips] = await db.all<{ total: number; free: number }>("SELECT COUNT(*) AS total, SUM(CASE WHEN contract_id = 0 THEN 1 ELSE 0 END) AS free FROM farm_ips");
  const num = (v: unknown) => Number(v ?? 0);
  const nodes = num(s?.nodes), up = num(s?.up), standby = num(s?.standby);
  return {
    nodes: { total: nodes, up, standby, down: nodes - up - standby },
    capacity: {
      total: { cru: num(s?.cru), mru: num(s?.mru), sru: num(s?.sru), hru: num(s?.hru) },
      used: { cru: num(s?.used_cru), mru: num(s?.used_mru), sru: num(s?.used_sru), hru: num(s?.used_hru) },
    },
    contracts: { total: num(c?.total), active: num(c?.active), grace_period: num(c?.grace_period), deleted: num(c?.deleted) },
    deployments: num(s?.deployments), farms: num(f?.farms), twins: num(t?.twins), countries: num(s?.countries),
    public_ips: { total: num(ips?.total), free: num(ips?.free) },
  };
}
