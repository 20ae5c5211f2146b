/**
 * What every command needs: the global options, the data dir of the local grid, and a connection
 * (the local grid's user twin, or `--grid FILE` + ZGRID_MNEMONIC for any other grid).
 *
 * @example
 * ```ts
 * await withGrid(opts, async (grid) => io.result(await grid.vms.list()));
 * ```
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type * as Client from "@zgrid/client";
import type { Grid } from "@zgrid/client";
import type { GridConnection, GridReader } from "@zgrid/client/read";
import type { TwinKey } from "@zgrid/types";
import type { Output } from "./output.ts";

export interface GlobalOptions {
  json: boolean;
  dataDir: string;
  grid?: string;
  quiet?: boolean;
}

export function defaultDataDir(): string {
  return resolve(process.env.ZGRID_DATA_DIR ?? join(homedir(), ".zgrid", "local"));
}

/** What a command's action gets: the global options and the output. */
export type Ctx = () => { opts: GlobalOptions; io: Output };

/**
 * The SDK, loaded on first use: `zgrid --help` and commands that never touch the grid do not pay
 * for loading the chain client, libp2p and zod.
 */
export function sdk(): Promise<typeof Client> {
  return import("@zgrid/client");
}

/** Connects, runs `fn`, and always closes the connection (also when `fn` throws). */
export async function withGrid<T>(o: GlobalOptions, fn: (grid: Grid) => Promise<T>): Promise<T> {
  const grid = await openGrid(o);
  try {
    return await fn(grid);
  } finally {
    await grid.close();
  }
}

export async function openGrid(o: GlobalOptions): Promise<Grid> {
  const { connectGrid } = await sdk();
  return connectGrid(await gridConnection(o));
}

/**
 * Like withGrid, for commands that only read (`vm ls`): the light reader of `@zgrid/client/read`
 * (no viem; libp2p only when a node must be asked), so they start fast (issue 14). On the local
 * grid, nodes are asked through the data dir's bus agent (bus-agent-use.ts): no libp2p here at all.
 */
export async function withGridReader<T>(o: GlobalOptions, fn: (reader: GridReader) => Promise<T>): Promise<T> {
  const { openGridReader } = await import("@zgrid/client/read");
  const conn = await gridConnection(o);
  const { agentBusFor, busAgentEnabled } = await import("./bus-agent-use.ts");
  const via = !o.grid && busAgentEnabled() ? agentBusFor(o.dataDir, conn.rpcUrl) : undefined;
  const reader = await openGridReader(conn, via ? { bus: via.bus } : {});
  try {
    return await fn(reader);
  } finally {
    via?.close();
    await reader.close();
  }
}

/** The connection: `--grid FILE` (+ ZGRID_MNEMONIC), else the local grid's in the data dir. */
async function gridConnection(o: GlobalOptions): Promise<GridConnection> {
  const { gridConnectionSchema, localGridConnection, InputError } = await import("@zgrid/client/read");
  if (!o.grid) return localGridConnection(o.dataDir);
  const raw = JSON.parse(readFileSync(o.grid, "utf8")) as Record<string, unknown>;
  const r = (await gridConnectionSchema()).safeParse({ ...raw, mnemonic: process.env.ZGRID_MNEMONIC ?? raw.mnemonic });
  if (!r.success) throw new InputError(`${o.grid}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { hint: "the file needs rpcUrl and addresses; the key comes from ZGRID_MNEMONIC" });
  return r.data;
}

/**
 * Short flist names: those the local grid published (busybox) and your own on its hub (what
 * `zgrid image push` published: `--flist app`, `image: app` in a compose file).
 */
export async function knownFlists(o: GlobalOptions): Promise<Record<string, string>> {
  const { readLocalGrid } = await sdk();
  let info: ReturnType<typeof readLocalGrid>;
  try {
    info = readLocalGrid(o.dataDir);
  } catch {
    return {};
  }
  const own: Record<string, string> = {};
  try {
    const res = await fetch(`${info.hubUrl}/flists/${info.user.address}`, { signal: AbortSignal.timeout(5_000) });
    if (res.ok) for (const e of (await res.json()) as Array<{ name: string; url: string }>) own[e.name.replace(/\.fl$/, "")] = e.url;
  } catch {
    // the hub does not answer: only the grid's own names
  }
  return { ...info.flists, ...own };
}

/** The hub and the twin key that signs for you there (local grid: grid.json; else ZGRID_HUB + ZGRID_MNEMONIC). */
export async function hubAccess(o: GlobalOptions): Promise<{ hubUrl: string; key: TwinKey }> {
  const { readLocalGrid, InputError } = await sdk();
  const { twinKeyFromMnemonic, twinKeyFromPrivateKey } = await import("@zgrid/types");
  if (o.grid || process.env.ZGRID_HUB) {
    const raw = o.grid ? (JSON.parse(readFileSync(o.grid, "utf8")) as { hubUrl?: string }) : {};
    const hubUrl = process.env.ZGRID_HUB ?? raw.hubUrl;
    const mnemonic = process.env.ZGRID_MNEMONIC;
    if (!hubUrl || !mnemonic) throw new InputError("no hub or no key: set ZGRID_HUB (or hubUrl in the --grid file) and ZGRID_MNEMONIC", { hint: "on the local grid both come from its config" });
    return { hubUrl, key: twinKeyFromMnemonic(mnemonic) };
  }
  const info = readLocalGrid(o.dataDir);
  return { hubUrl: info.hubUrl, key: twinKeyFromPrivateKey(info.user.privateKey) };
}
