/** The REST routes: each names its query parameters (validated by params.ts) and its handler. */
import { BaseError } from "@zgrid/types";
import type { Db } from "../db/db.ts";
import { gridStats, listContracts } from "./contract-queries.ts";
import { PAGING, parseParams, type ParamSpec, type Params } from "./params.ts";
import { farmIps, getNode, listFarms, listNodes, listTwins, nodeCapacityHistory, NODE_SORTS, type StatusWindows } from "./queries.ts";

export class NotFoundError extends BaseError {
  override readonly code = "NOT_FOUND";
}

export interface RouteContext { db: Db; windows: StatusWindows; indexStatus: () => Record<string, unknown> }

export interface Route {
  pattern: RegExp;
  summary: string;
  params: Record<string, ParamSpec>;
  handle(ctx: RouteContext, p: Params, match: RegExpMatchArray): Promise<unknown>;
}

const id = { kind: "int", min: 1, max: 2 ** 32 } as const;
const text = { kind: "string", max: 64 } as const;
const bool = { kind: "bool" } as const;
const size = { kind: "int", min: 0, max: 2 ** 50 } as const;

export const NODE_FILTERS: Record<string, ParamSpec> = {
  ...PAGING,
  status: { kind: "enum", values: ["up", "down", "standby"] },
  free_cru: size, free_mru: size, free_sru: size, free_hru: size, free_ips: { kind: "int", min: 0, max: 100_000 },
  farm_id: id, twin_id: id, country: text, city: text, domain: bool, ipv4: bool, rented: bool, rented_by: id, dedicated: bool,
  sort_by: { kind: "enum", values: NODE_SORTS }, sort_order: { kind: "enum", values: ["asc", "desc"] },
};

function found<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new NotFoundError(`${what} does not exist`);
  return v;
}

export const ROUTES: Route[] = [
  { pattern: /^\/api\/v1\/stats$/, summary: "grid totals: nodes up/standby/down, capacity, contracts, farms, twins", params: {},
    handle: async (c) => ({ ...(await gridStats(c.db, c.windows)), index: c.indexStatus() }) },
  { pattern: /^\/api\/v1\/nodes$/, summary: "nodes with filters, sorting and pagination", params: NODE_FILTERS,
    handle: (c, p) => listNodes(c.db, p, c.windows) },
  { pattern: /^\/api\/v1\/nodes\/(\d{1,10})$/, summary: "one node", params: {},
    handle: async (c, _p, m) => found(await getNode(c.db, Number(m[1]), c.windows), `node ${m[1]}`) },
  { pattern: /^\/api\/v1\/nodes\/(\d{1,10})\/capacity$/, summary: "a node's used capacity over time (samples of the liveness checks)",
    params: { hours: { kind: "int", min: 1, max: 168 } },
    handle: async (c, p, m) => ({ items: await nodeCapacityHistory(c.db, Number(m[1]), Date.now() - ((p.hours as number | undefined) ?? 24) * 3_600_000) }) },
  { pattern: /^\/api\/v1\/farms$/, summary: "farms", params: { ...PAGING, name: text, twin_id: id, dedicated: bool },
    handle: (c, p) => listFarms(c.db, p) },
  { pattern: /^\/api\/v1\/farms\/(\d{1,10})$/, summary: "one farm with its public IPs", params: {},
    handle: async (c, _p, m) => {
      const farm = found((await listFarms(c.db, { farm_id: Number(m[1]) })).items[0], `farm ${m[1]}`);
      return { ...farm, public_ips: await farmIps(c.db, Number(m[1])) };
    } },
  { pattern: /^\/api\/v1\/twins$/, summary: "twins", params: { ...PAGING, account: { kind: "string", max: 42, pattern: /^0x[0-9a-fA-F]{40}$/ }, twin_id: id },
    handle: (c, p) => listTwins(c.db, p) },
  { pattern: /^\/api\/v1\/twins\/(\d{1,10})$/, summary: "one twin", params: {},
    handle: async (c, _p, m) => found((await listTwins(c.db, { twin_id: Number(m[1]) })).items[0], `twin ${m[1]}`) },
  { pattern: /^\/api\/v1\/contracts$/, summary: "contracts by twin, node, state or kind, with cost per hour",
    params: { ...PAGING, twin_id: id, node_id: id, contract_id: id, state: { kind: "enum", values: ["created", "grace_period", "deleted"] }, kind: { kind: "enum", values: ["node", "name", "rent"] } },
    handle: (c, p) => listContracts(c.db, p) },
];

/** Finds the route for a path and validates the query; undefined when no route matches. */
export function resolve(path: string, search: URLSearchParams): { route: Route; params: Params; match: RegExpMatchArray } | undefined {
  for (const route of ROUTES) {
    const match = path.match(route.pattern);
    if (match) return { route, params: parseParams(search, route.params), match };
  }
  return undefined;
}
