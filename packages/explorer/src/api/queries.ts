/**
 * The explorer's read queries (same SQL on SQLite and PostgreSQL). A node's status is computed at
 * query time, never stored: `standby` when its farmer's target or its own power state is down; `up`
 * only when it answered the explorer within `liveWindowMs` AND reported uptime on chain within
 * `uptimeWindowSec`; otherwise `down`.
 */
import type { Db, SqlValue } from "../db/db.ts";
import { paging, type Params } from "./params.ts";

export interface StatusWindows { liveWindowMs: number; uptimeWindowSec: number }

/** Answered the explorer recently AND proved uptime on chain recently (params: live since ms, uptime since s). */
const ANSWERED = "COALESCE(l.last_seen, 0) >= ? AND n.last_uptime_report >= ?";
const STATUS = `CASE WHEN n.power_target_up = 0 OR n.power_state_up = 0 THEN 'standby' WHEN ${ANSWERED} THEN 'up' ELSE 'down' END`;

const NODE_COLUMNS = `n.id, n.farm_id, n.twin_id, n.cru, n.mru, n.sru, n.hru, n.country, n.city, n.latitude, n.longitude,
  n.ip4, n.ip6, n.domain, n.secure_boot, n.virtualized, n.serial, n.created_at, n.updated_at, n.uptime, n.last_uptime_report,
  n.power_target_up, n.power_state_up, n.rented_by, n.rent_contract_id, f.name AS farm_name, f.dedicated,
  COALESCE(l.last_seen, 0) AS last_seen, COALESCE(l.version, '') AS version, COALESCE(l.deployments, 0) AS deployments,
  COALESCE(l.workloads, 0) AS workloads, COALESCE(l.free_cru, 0) AS free_cru, COALESCE(l.free_mru, 0) AS free_mru,
  COALESCE(l.free_sru, 0) AS free_sru, COALESCE(l.free_hru, 0) AS free_hru, COALESCE(fi.free_ips, 0) AS free_ips`;

const FROM = `FROM nodes n JOIN farms f ON f.id = n.farm_id LEFT JOIN node_live l ON l.node_id = n.id
  LEFT JOIN (SELECT farm_id, COUNT(*) AS free_ips FROM farm_ips WHERE contract_id = 0 GROUP BY farm_id) fi ON fi.farm_id = n.farm_id`;

export const NODE_SORTS = ["id", "free_cru", "free_mru", "free_sru", "free_hru", "uptime", "farm_id", "last_seen"] as const;

function statusParams(w: StatusWindows, now = Date.now()): SqlValue[] {
  return [now - w.liveWindowMs, Math.floor(now / 1000) - w.uptimeWindowSec];
}

/** Nodes matching the filters, one page, and the total count. */
export async function listNodes(db: Db, p: Params, w: StatusWindows): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const where: string[] = ["n.deleted = 0"];
  const args: SqlValue[] = [];
  const add = (sql: string, ...v: SqlValue[]) => { where.push(sql); args.push(...v); };
  for (const k of ["cru", "mru", "sru", "hru"] as const) if (p[`free_${k}`] !== undefined) add(`COALESCE(l.free_${k}, 0) >= ?`, p[`free_${k}`] as number);
  if (p.farm_id !== undefined) add("n.farm_id = ?", p.farm_id as number);
  if (p.twin_id !== undefined) add("n.twin_id = ?", p.twin_id as number);
  if (p.country !== undefined) add("LOWER(n.country) = LOWER(?)", p.country as string);
  if (p.city !== undefined) add("LOWER(n.city) = LOWER(?)", p.city as string);
  if (p.free_ips !== undefined) add("COALESCE(fi.free_ips, 0) >= ?", p.free_ips as number);
  if (p.domain === true) where.push("n.domain <> ''");
  if (p.domain === false) where.push("n.domain = ''");
  if (p.ipv4 === true) where.push("n.ip4 <> ''");
  if (p.rented === true) where.push("n.rented_by <> 0");
  if (p.rented === false) where.push("n.rented_by = 0");
  if (p.rented_by !== undefined) add("n.rented_by = ?", p.rented_by as number);
  if (p.dedicated !== undefined) add("f.dedicated = ?", p.dedicated ? 1 : 0);
  const sp = statusParams(w);
  // the status filter as plain predicates (not the CASE): the planner can estimate and use them
  if (p.status === "standby") where.push("(n.power_target_up = 0 OR n.power_state_up = 0)");
  else if (p.status === "up") add(`n.power_target_up <> 0 AND n.power_state_up <> 0 AND ${ANSWERED}`, ...sp);
  else if (p.status === "down") add(`n.power_target_up <> 0 AND n.power_state_up <> 0 AND NOT (${ANSWERED})`, ...sp);
  else if (p.status !== undefined) where.push("1 = 0");
  const sort = (p.sort_by as string | undefined) ?? "id";
  const order = p.sort_order === "desc" ? "DESC" : "ASC";
  const sortExpr = sort.startsWith("free_") ? `COALESCE(l.${sort}, 0)` : sort === "last_seen" ? "COALESCE(l.last_seen, 0)" : `n.${sort}`;
  const { limit, offset } = paging(p);
  const w_ = `WHERE ${where.join(" AND ")}`;
  // 1. the page's ids and the total in one narrow pass (sorted on a few columns, not every column)
  const page = await db.all<{ id: number; total: number }>(
    `SELECT n.id AS id, COUNT(*) OVER () AS total ${FROM} ${w_} ORDER BY ${sortExpr} ${order}, n.id ${order} LIMIT ? OFFSET ?`, [...args, limit, offset]);
  let total = Number(page[0]?.total ?? 0);
  if (page.length === 0 && offset > 0) total = Number((await db.all<{ c: number }>(`SELECT COUNT(*) AS c ${FROM} ${w_}`, args))[0]?.c ?? 0);
  if (page.length === 0) return { total, items: [] };
  // 2. every column of those ids only, in the page's order
  const ids = page.map((r) => Number(r.id));
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${NODE_COLUMNS}, ${STATUS} AS status ${FROM} WHERE n.id IN (${ids.map(() => "?").join(", ")})`, [...sp, ...ids]);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return { total, items: ids.flatMap((id) => (byId.has(id) ? [nodeView(byId.get(id)!)] : [])) };
}

export async function getNode(db: Db, id: number, w: StatusWindows): Promise<Record<string, unknown> | undefined> {
  const [row] = await db.all<Record<string, unknown>>(`SELECT ${NODE_COLUMNS}, ${STATUS} AS status ${FROM} WHERE n.id = ? AND n.deleted = 0`, [...statusParams(w), id]);
  return row ? nodeView(row) : undefined;
}

export async function nodeCapacityHistory(db: Db, id: number, sinceMs: number): Promise<Record<string, unknown>[]> {
  const rows = await db.all<Record<string, unknown>>(
    "SELECT at, used_cru, used_mru, used_sru, used_hru, deployments FROM node_capacity WHERE node_id = ? AND at >= ? ORDER BY at LIMIT 5000", [id, sinceMs]);
  return rows.map(numbers);
}

function numbers(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]));
}

function nodeView(r: Record<string, unknown>): Record<string, unknown> {
  const x = numbers(r);
  return {
    id: x.id, farm_id: x.farm_id, farm_name: x.farm_name, twin_id: x.twin_id, status: x.status,
    total: { cru: x.cru, mru: x.mru, sru: x.sru, hru: x.hru },
    free: { cru: x.free_cru, mru: x.free_mru, sru: x.free_sru, hru: x.free_hru },
    location: { country: x.country, city: x.city, latitude: x.latitude, longitude: x.longitude },
    public_config: { ip4: x.ip4, ip6: x.ip6, domain: x.domain }, free_ips: x.free_ips,
    rented_by: x.rented_by || null, rent_contract_id: x.rent_contract_id || null, dedicated: x.dedicated === 1,
    power: { target: x.power_target_up ? "up" : "down", state: x.power_state_up ? "up" : "down" },
    uptime: x.uptime, last_uptime_report: x.last_uptime_report, last_seen: x.last_seen || null, version: x.version,
    deployments: x.deployments, workloads: x.workloads, secure_boot: x.secure_boot === 1, virtualized: x.virtualized === 1,
    created_at: x.created_at, updated_at: x.updated_at,
  };
}

export async function listFarms(db: Db, p: Params): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const where: string[] = [];
  const args: SqlValue[] = [];
  if (p.farm_id !== undefined) { where.push("f.id = ?"); args.push(p.farm_id as number); }
  if (p.name !== undefined) { where.push("f.name = ?"); args.push(p.name as string); }
  if (p.twin_id !== undefined) { where.push("f.twin_id = ?"); args.push(p.twin_id as number); }
  if (p.dedicated !== undefined) { where.push("f.dedicated = ?"); args.push(p.dedicated ? 1 : 0); }
  const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const { limit, offset } = paging(p);
  const [count] = await db.all<{ c: number }>(`SELECT COUNT(*) AS c FROM farms f ${w}`, args);
  const items = await db.all<Record<string, unknown>>(`SELECT f.id, f.twin_id, f.name, f.pricing_policy_id, f.dedicated,
      (SELECT COUNT(*) FROM nodes n WHERE n.farm_id = f.id AND n.deleted = 0) AS nodes,
      (SELECT COUNT(*) FROM nodes n WHERE n.farm_id = f.id AND n.deleted = 0 AND (n.power_target_up = 0 OR n.power_state_up = 0)) AS standby_nodes,
      (SELECT COUNT(*) FROM farm_ips i WHERE i.farm_id = f.id) AS ips,
      (SELECT COUNT(*) FROM farm_ips i WHERE i.farm_id = f.id AND i.contract_id = 0) AS free_ips
    FROM farms f ${w} ORDER BY f.id LIMIT ? OFFSET ?`, [...args, limit, offset]);
  return { total: Number(count?.c ?? 0), items: items.map((r) => ({ ...numbers(r), dedicated: Number(r.dedicated) === 1 })) };
}

export async function farmIps(db: Db, farmId: number): Promise<Record<string, unknown>[]> {
  return (await db.all<Record<string, unknown>>("SELECT ip, gateway, contract_id FROM farm_ips WHERE farm_id = ? ORDER BY ip LIMIT 1000", [farmId])).map(numbers);
}

export async function listTwins(db: Db, p: Params): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const where: string[] = [];
  const args: SqlValue[] = [];
  if (p.account !== undefined) { where.push("LOWER(account) = LOWER(?)"); args.push(p.account as string); }
  if (p.twin_id !== undefined) { where.push("id = ?"); args.push(p.twin_id as number); }
  const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const { limit, offset } = paging(p);
  const [count] = await db.all<{ c: number }>(`SELECT COUNT(*) AS c FROM twins ${w}`, args);
  const items = await db.all<Record<string, unknown>>(`SELECT id, account, peer_id, relays FROM twins ${w} ORDER BY id LIMIT ? OFFSET ?`, [...args, limit, offset]);
  return { total: Number(count?.c ?? 0), items: items.map((r) => ({ ...numbers(r), relays: JSON.parse(String(r.relays)) as unknown })) };
}
