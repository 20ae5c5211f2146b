/**
 * `zgrid nodes ls --explorer URL`: the node list from an explorer's API (one HTTP call, the
 * explorer's liveness) instead of asking the chain and every node. Same filter, same row shape
 * as the client's NodeFinder.
 *
 * @example
 * ```ts
 * const nodes = await nodesFromExplorer("http://127.0.0.1:8080", { mru: 2 * 2 ** 30, country: "BE" });
 * ```
 */
import { InputError, type NodeFilter, type NodeInfo } from "@zgrid/client";

interface ExplorerNode {
  id: number; farm_id: number; twin_id: number; status: string; location: { country: string; city: string }; public_config: { domain: string; ip6?: string };
  rented_by: number | null; total: NodeInfo["total"]; free: NodeInfo["free"]; free_ips: number; deployments: number;
}

export async function nodesFromExplorer(url: string, f: NodeFilter, timeoutMs = 10_000): Promise<NodeInfo[]> {
  let base: URL;
  try { base = new URL("/api/v1/nodes", url); } catch { throw new InputError(`--explorer must be a URL like http://127.0.0.1:8080, got '${url}'`); }
  const q = base.searchParams;
  q.set("size", "100");
  q.set("sort_by", "free_mru");
  q.set("sort_order", "desc");
  if (!f.includeDown) q.set("status", "up");
  if (!f.includeRented) q.set("rented", "false");
  for (const k of ["cru", "mru", "sru", "hru"] as const) if (f[k]) q.set(`free_${k}`, String(f[k]));
  if (f.farmId !== undefined) q.set("farm_id", String(f.farmId));
  if (f.country) q.set("country", f.country);
  if (f.hasDomain) q.set("domain", "true");
  if (f.publicIps) q.set("free_ips", String(f.publicIps));
  const out: NodeInfo[] = [];
  for (let page = 1; page <= 100; page++) {
    q.set("page", String(page));
    const r = await fetch(base, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await r.json()) as { total: number; items: ExplorerNode[]; message?: string };
    if (!r.ok) throw new InputError(`the explorer refused the query: ${body.message ?? r.status}`);
    for (const n of body.items) {
      out.push({
        nodeId: n.id, farmId: n.farm_id, twinId: n.twin_id, country: n.location.country, city: n.location.city, domain: n.public_config.domain,
        up: n.status === "up", standby: n.status === "standby", rentedBy: n.rented_by ?? undefined, total: n.total, free: n.free, freePublicIps: n.free_ips, ipv6: !!n.public_config.ip6, deployments: n.deployments,
      });
    }
    if (page * 100 >= body.total) break;
  }
  return out;
}
