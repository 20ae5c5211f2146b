/**
 * Pieces the end-to-end fixtures share (not public API): a bus-connected test twin, a packed,
 * signed and pushed flist, and a real `zosd` process (account, funding, ready line).
 *
 * @example
 * ```ts
 * const [cmd, args] = zosdCommand(configPath);           // or host.command(...zosdCommand(configPath))
 * await fundNode(grid, nodeAccount(cmd, args));
 * const { process, twinId, nodeId } = await startZosd(cmd, args);
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createBus } from "@zgrid/bus";
import type { TestGrid } from "@zgrid/chain/testing";
import { packFlist, pushFlist, signFlist, type Hub } from "@zgrid/flist";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { chainTwinDirectory } from "@zgrid/chain";
import type { Twin } from "./node-fixture.ts";

const ZOSD = fileURLToPath(new URL("../../bin/zosd.ts", import.meta.url));

/** The command line that runs zosd with `configPath`. */
export function zosdCommand(configPath: string): [string, string[]] {
  return [process.execPath, ["--disable-warning=ExperimentalWarning", ZOSD, "--config", configPath]];
}

/** The node's chain account (`zosd --account` creates the seed). */
export function nodeAccount(cmd: string, args: string[]): `0x${string}` {
  return (JSON.parse(spawnSync(cmd, [...args, "--account"], { encoding: "utf8" }).stdout) as { account: `0x${string}` }).account;
}

/** Sends the node gas from the dev chain's admin. */
export async function fundNode(grid: TestGrid, account: `0x${string}`): Promise<void> {
  await grid.admin.walletClient!.sendTransaction({ to: account, value: 10n ** 20n, chain: null });
}

/** Starts zosd and waits for its `{"ready":true,…}` line (`onSpawn` gets the process at once, to kill it while it starts). */
export async function startZosd(cmd: string, args: string[], onSpawn?: (child: ChildProcess) => void): Promise<{ process: ChildProcess; twinId: number; nodeId: number }> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ZGRID_LOG_LEVEL: process.env.ZGRID_LOG_LEVEL ?? "warn" } });
  onSpawn?.(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`zosd exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(line) as { ready: boolean; twinId: number; nodeId: number; error?: { message: string } };
  if (!ready.ready) throw new Error(`zosd failed: ${ready.error?.message}`);
  return { process: child, twinId: ready.twinId, nodeId: ready.nodeId };
}

/** Test twin 3 (user) or 4 (stranger) of the test grid, with a started bus (stopped by `onStop`). */
export async function testTwin(grid: TestGrid, index: 3 | 4, onStop: (f: () => Promise<void>) => void, listen?: string[]): Promise<Twin> {
  const t = grid.chain.twins[index]!;
  const key = twinKeyFromPrivateKey(t.privateKey);
  const client = index === 3 ? grid.user : grid.stranger;
  const bus = await createBus({ key, twinId: t.twinId, directory: chainTwinDirectory(client), ...(listen ? { listen } : {}) });
  onStop(() => bus.stop());
  return { id: t.twinId, key, client, bus };
}

/** Packs `root` into `<tmp>/<name>.fl` (blocks in `<tmp>/blocks`), signs it with `key`, pushes it to the hub. */
export async function publishFlist(o: { root: string; tmp: string; name: string; hub: Hub; key: TwinKey }): Promise<{ url: string; path: string }> {
  const local = `dir://${join(o.tmp, "blocks")}`;
  const path = join(o.tmp, `${o.name}.fl`);
  await packFlist({ source: o.root, output: path, stores: [local] });
  await signFlist(path, o.key);
  const pushed = await pushFlist({ hub: o.hub.url, flist: path, stores: [local], key: o.key });
  return { url: pushed.url, path };
}
