/**
 * Where a grid is and who we are on it: the chain's RPC URL and contract addresses, the twin's key,
 * and, for the local grid, the file `zgrid up` writes (`<dataDir>/grid.json`).
 *
 * @example
 * ```ts
 * const conn = localGridConnection("/var/lib/zgrid");   // or { rpcUrl, addresses, mnemonic }
 * const grid = await connectGrid(conn);
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalGridError } from "../errors/client-errors.ts";

// The schema (zod) is in its own file (grid-connection-schema.ts): reading the local grid's file needs no zod (issue 14).
import type { GridConnection } from "./grid-connection-schema.ts";
export type { GridConnection };

/** What `zgrid up` writes to `<dataDir>/grid.json`. */
export interface LocalGridInfo {
  dataDir: string;
  supervisorPid: number;
  rpcUrl: string;
  addresses: GridConnection["addresses"];
  adminKey: `0x${string}`;
  hubUrl: string;
  farmId: number;
  farmerKey: `0x${string}`;
  user: { twinId: number; privateKey: `0x${string}`; address: string };
  flists: Record<string, string>;
  nodes: Array<{ index: number; nodeId: number; twinId: number; pid: number; dataDir: string; vmStateDir: string; log: string; address?: string }>;
  /** The explorer's dashboard and API (`zgrid up` runs one). */
  explorerUrl?: string;
  /** Prometheus text endpoints: explorer, hub, and each node's zosd. */
  metrics?: Record<string, string>;
  /**
   * Nodes that are QEMU machines network-booting the node release from the local boot server
   * (`zgrid up --vm-nodes N`): the machine's QEMU pid, console, disk and tap on the underlay.
   */
  vmNodes?: Array<{ index: number; nodeId: number; account: string; pid: number; console: string; disk: string; tap: string }>;
  /** Set when the nodes run in node hosts on an underlay bridge (`zgrid up --underlay`). */
  underlay?: { bridge: string; hostAddress: string; hosts: string[] };
  /**
   * The local grid's DNS server (`ip:port`, the nodes' `gateway.fqdnResolvers`) and its zone file
   * (`localDnsZone(dataDir)` / `zgrid dns` publish records in it).
   */
  dns?: { server: string; zoneFile: string };
}

export function localGridInfoPath(dataDir: string): string {
  return join(dataDir, "grid.json");
}

/** Reads the local grid's info; throws LocalGridError with a hint when it is not up. */
export function readLocalGrid(dataDir: string): LocalGridInfo {
  const path = localGridInfoPath(dataDir);
  if (!existsSync(path)) throw new LocalGridError(`no local grid is running in ${dataDir}`, { details: { dataDir }, hint: "start one with `zgrid up` (or pass --data-dir / set ZGRID_DATA_DIR)" });
  return JSON.parse(readFileSync(path, "utf8")) as LocalGridInfo;
}

export function localGridConnection(dataDir: string): GridConnection {
  const g = readLocalGrid(dataDir);
  return { rpcUrl: g.rpcUrl, addresses: g.addresses, privateKey: g.user.privateKey, adminKey: g.adminKey, ...(/^0x[0-9a-fA-F]{40}$/.test(g.user.address) ? { account: g.user.address as `0x${string}` } : {}) };
}
