/**
 * What every command needs: the global options, the data dir of the local grid, and a connection
 * (the local grid's user twin, or `--grid FILE` + ZGRID_MNEMONIC for any other grid).
 *
 * @example
 * ```ts
 * const grid = await openGrid(opts); try { … } finally { await grid.close(); }
 * ```
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { connectGrid, gridConnectionSchema, localGridConnection, readLocalGrid, InputError, type Grid } from "@zgrid/client";

export interface GlobalOptions {
  json: boolean;
  dataDir: string;
  grid?: string;
  quiet?: boolean;
}

export function defaultDataDir(): string {
  return resolve(process.env.ZGRID_DATA_DIR ?? join(homedir(), ".zgrid", "local"));
}

export async function openGrid(o: GlobalOptions): Promise<Grid> {
  if (o.grid) {
    const raw = JSON.parse(readFileSync(o.grid, "utf8")) as Record<string, unknown>;
    const r = gridConnectionSchema.safeParse({ ...raw, mnemonic: process.env.ZGRID_MNEMONIC ?? raw.mnemonic });
    if (!r.success) throw new InputError(`${o.grid}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { hint: "the file needs rpcUrl and addresses; the key comes from ZGRID_MNEMONIC" });
    return connectGrid(r.data);
  }
  return connectGrid(localGridConnection(o.dataDir));
}

/** Short flist names (busybox) the local grid published, when one runs. */
export function knownFlists(o: GlobalOptions): Record<string, string> {
  try {
    return readLocalGrid(o.dataDir).flists;
  } catch {
    return {};
  }
}
