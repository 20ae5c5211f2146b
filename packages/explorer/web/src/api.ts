/** The dashboard's view of the explorer API. */
export interface Res { cru: number; mru: number; sru: number; hru: number }
export interface NodeView {
  id: number; farm_id: number; farm_name: string; twin_id: number; status: "up" | "down" | "standby";
  total: Res; free: Res; location: { country: string; city: string }; public_config: { ip4: string; ip6: string; domain: string };
  free_ips: number; rented_by: number | null; dedicated: boolean; power: { target: string; state: string };
  uptime: number; last_uptime_report: number; last_seen: number | null; version: string; deployments: number; workloads: number;
}
export interface Page<T> { total: number; items: T[] }
export interface Stats {
  nodes: { total: number; up: number; standby: number; down: number };
  capacity: { total: Res; used: Res };
  contracts: { total: number; active: number; grace_period: number; deleted: number };
  deployments: number; farms: number; twins: number; countries: number; public_ips: { total: number; free: number };
  index: { indexed: string | null; head: string | null };
}
export interface Contract {
  id: number; twin_id: number; node_id: number | null; kind: string; state: string; name: string | null; public_ips: number;
  used: Res; cost_per_hour_usd: number; created_at: number;
}
export interface Farm { id: number; twin_id: number; name: string; dedicated: boolean; nodes: number; standby_nodes: number; ips: number; free_ips: number; public_ips?: { ip: string; gateway: string; contract_id: number }[] }
export interface Sample { at: number; used_cru: number; used_mru: number; used_sru: number; used_hru: number; deployments: number }

export class ApiError extends Error {}

export async function api<T>(path: string): Promise<T> {
  const r = await fetch(path);
  const body = (await r.json()) as T & { message?: string; hint?: string };
  if (!r.ok) throw new ApiError(body.message ?? `HTTP ${r.status}`);
  return body;
}

export const GIB = 2 ** 30;
export function bytes(n: number): string {
  if (n >= 2 ** 40) return `${(n / 2 ** 40).toFixed(1)} TiB`;
  if (n >= GIB) return `${(n / GIB).toFixed(n % GIB === 0 ? 0 : 1)} GiB`;
  return `${Math.round(n / 2 ** 20)} MiB`;
}
export function ago(ms: number | null): string {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}
