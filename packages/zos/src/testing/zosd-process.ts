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
import { ZOSD_ENV, ZOSD_NODE_FLAGS } from "../daemon/zosd-node-flags.ts";

const ZOSD = fileURLToPath(new URL("../../bin/zosd.ts", import.meta.url));
const ZBMC = fileURLToPath(new URL("../../bin/zbmc.ts", import.meta.url));

/** The local grid's simulated BMC wrapping a zosd command (run it inside the node host). */
export function zbmcCommand(stateDir: string, zosd: [string, string[]], o: { on: boolean }): [string, string[]] {
  return [process.execPath, ["--disable-warning=ExperimentalWarning", ZBMC, "--nic", "eth0", "--state", stateDir, ...(o.on ? ["--on"] : []), "--", zosd[0], ...zosd[1]]];
}

/**
 * A BMC process and the zosd it powers: `events` collects its JSON event lines ({"bmc":…}),
 * `ready()` resolves at zosd's next ready line (after a wake too).
 */
export interface BmcProcess {
  process: ChildProcess;
  events: Array<Record<string, unknown>>;
  ready(): Promise<{ twinId: number; nodeId: number }>;
}

export function startBmcProcess(cmd: string, args: string[]): BmcProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ZGRID_LOG_LEVEL: process.env.ZGRID_LOG_LEVEL ?? "warn" } });
  const events: Array<Record<string, unknown>> = [];
  let waiters: Array<{ resolve: (r: { twinId: number; nodeId: number }) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let j: Record<string, unknown>;
    try { j = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    if ("bmc" in j) events.push({ ...j, at: Date.now() });
    else if ("ready" in j) {
      const w = waiters; waiters = [];
      for (const x of w) {
        if (j.ready) x.resolve({ twinId: j.twinId as number, nodeId: j.nodeId as number });
        else x.reject(new Error(`zosd failed: ${JSON.stringify(j.error)}`));
      }
    }
  });
  child.once("exit", (code) => { for (const x of waiters) x.reject(new Error(`zbmc exited (${code})`)); waiters = []; });
  return { process: child, events, ready: () => new Promise((resolve, reject) => waiters.push({ resolve, reject })) };
}

/**
 * The command line that runs zosd with `configPath` (`nodeFlags`: Node's flags, default the
 * daemon's own, which come with its environment ZOSD_ENV, set through `env` so that every
 * launcher of the command — a node host's `ip netns exec`, a BMC — passes it on; `env` execs Node,
 * so the pid is zosd's).
 */
export function zosdCommand(configPath: string, nodeFlags: readonly string[] = ZOSD_NODE_FLAGS): [string, string[]] {
  const node = [process.execPath, ...nodeFlags, "--disable-warning=ExperimentalWarning", ZOSD, "--config", configPath];
  if (nodeFlags !== ZOSD_NODE_FLAGS) return [node[0]!, node.slice(1)];
  return ["env", [...Object.entries(ZOSD_ENV).map(([k, v]) => `${k}=${v}`), ...node]];
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
