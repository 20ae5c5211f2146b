// What a user watching the local grid gets, end to end: `zgrid up` starts the explorer and prints
// its URL and the metrics endpoints; the explorer's API lists the node as up; `zgrid metrics
// --prometheus DIR` sets up the example Prometheus config (examples/prometheus.yml) and Debian's
// prometheus scrapes every endpoint of the grid (node daemon, hub, explorer) and the heals counter
// of a running `zgrid bot run` (its /metrics, listed by `zgrid metrics`, put in targets-bot.json).
// Boots the local grid (one node host): run under the VM lock when machines are shared.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { LocalGridInfo } from "@zgrid/client";
import { freePort } from "@zgrid/types/free-port";

const ZGRID = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));
let dataDir: string;

function zgrid(json: boolean, ...args: string[]) {
  const r = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, ...(json ? ["--json"] : []), ...args], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  assert.equal(r.status, 0, `zgrid ${args.join(" ")} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, fn: () => Promise<T>, good: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (good(last)) return last;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe("observability of the local grid", { timeout: 600_000 }, () => {
  let prometheus: ChildProcess | undefined;
  let bot: ChildProcess | undefined;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "zgrid-observe-e2e-"));
  });
  after(() => {
    prometheus?.kill("SIGKILL");
    bot?.kill("SIGKILL");
    spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("zgrid up starts the explorer (node up in its API); Prometheus with the example config scrapes node, hub, explorer and the 3bot; a hung node daemon shows down", async () => {
    const human = zgrid(false, "up", "--nodes", "1");
    const info = JSON.parse(zgrid(true, "status")) as { nodes: Array<{ node: number }> };
    const grid = JSON.parse(zgrid(true, "up", "--nodes", "1")) as LocalGridInfo; // already up: the same grid
    assert.ok(grid.explorerUrl, "zgrid up reports the explorer");
    assert.match(human, new RegExp(`explorer +${grid.explorerUrl!.replace(/[./]/g, "\\$&")}`), "and prints its URL");
    for (const url of Object.values(grid.metrics ?? {})) assert.ok(human.includes(url), `zgrid up prints ${url}`);
    // the explorer indexed the node and saw it answer: `up` in its API
    const nodeId = info.nodes[0]!.node;
    const nodes = await waitFor("the node up in the explorer", async () => (await (await fetch(`${grid.explorerUrl}/api/v1/nodes?status=up`)).json()) as { items: Array<{ id: number; status: string }> },
      (b) => b.items.some((n) => n.id === nodeId && n.status === "up"));
    assert.deepEqual(nodes.items.map((n) => n.id), [nodeId]);

    // the twin's 3bot (`zgrid bot run`) serves its heals counter; `zgrid metrics` lists it
    const log = openSync(join(dataDir, "3bot.log"), "a");
    bot = spawn(process.execPath, [ZGRID, "--data-dir", dataDir, "bot", "run", "--interval", "2"], { stdio: ["ignore", log, log], env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
    const endpoints = await waitFor("the 3bot's metrics endpoint in `zgrid metrics`", async () => JSON.parse(zgrid(true, "metrics")) as Record<string, string>, (m) => !!m["3bot"], 60_000)
      .catch((e: unknown) => { throw new Error(`${(e as Error).message}\n3bot log: ${readFileSync(join(dataDir, "3bot.log"), "utf8").slice(-3000)}`); });
    assert.match(await (await fetch(endpoints["3bot"]!)).text(), /^zgrid_bot_heals_total\{bot="3bot",twin="\d+",kind="none",outcome="ok"\} 0$/m);

    // the example Prometheus config for this grid, run by Debian's prometheus; the bot is in targets-bot.json
    const prom = join(dataDir, "prom");
    const setup = JSON.parse(zgrid(true, "metrics", "--prometheus", prom)) as { config: string };
    const port = await freePort();
    prometheus = spawn("prometheus", [`--config.file=${setup.config}`, `--storage.tsdb.path=${join(prom, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
    const api = `http://127.0.0.1:${port}/api/v1`;
    type Targets = { data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> } };
    const targets = await waitFor("every target up", async () => (await (await fetch(`${api}/targets`)).json()) as Targets,
      (b) => b.data.activeTargets.length === 4 && b.data.activeTargets.every((x) => x.health === "up"));
    assert.deepEqual(targets.data.activeTargets.map((x) => x.labels.job).sort(), ["zgrid-bot", "zgrid-explorer", "zgrid-hub", "zgrid-node"]);
    // a grid metric of each kind, as Prometheus stored it
    const query = async (q: string) => ((await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    for (const [q, job] of [["zgrid_zos_deployments", "zgrid-node"], ["zgrid_explorer_index_lag_blocks", "zgrid-explorer"], ["zgrid_hub_store_blocks", "zgrid-hub"]] as const) {
      const r = await waitFor(q, () => query(q), (x) => x.length > 0);
      assert.ok(r.every((s) => s.metric.job === job), `${q} comes from ${job}`);
    }
    const heals = await waitFor("the 3bot's heals counter", () => query("zgrid_bot_heals_total"), (x) => x.length === 1);
    assert.equal(heals[0]!.metric.job, "zgrid-bot");
    assert.equal(heals[0]!.metric.twin, String(grid.user.twinId), "the bot of the grid's user twin");
    assert.equal(heals[0]!.value[1], "0", "no heal happened");

    // the node's daemon stops answering (SIGSTOP: a hung or dead zosd, seen from outside): the
    // explorer shows it down within its liveness window (local grid: probes every 10 s, 4 s
    // timeout, window 28 s) and the "up" filter never returns it from then on
    const zosd = grid.nodes.find((n) => n.nodeId === nodeId)!.pid;
    type NodesPage = { items: Array<{ id: number; status: string }> };
    const get = async <T>(path: string) => (await (await fetch(`${grid.explorerUrl}${path}`)).json()) as T;
    process.kill(zosd, "SIGSTOP");
    try {
      const stoppedAt = Date.now();
      await waitFor("the node down in the explorer", () => get<{ status: string }>(`/api/v1/nodes/${nodeId}`), (n) => n.status === "down", 28_000 + 10_000 + 4_000 + 15_000);
      console.log(`explorer: node ${nodeId} down ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after its daemon stopped`);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await get<NodesPage>("/api/v1/nodes?status=up")).items.map((n) => n.id), [], "a down node is never listed as up");
        assert.deepEqual((await get<NodesPage>("/api/v1/nodes?status=down")).items.map((n) => n.id), [nodeId]);
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      process.kill(zosd, "SIGCONT");
    }
  });
});
