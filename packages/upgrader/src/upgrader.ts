/**
 * The upgrader: the small bootstrap that owns zosd on a node. It runs zosd from the current
 * release, follows the release approved on chain and, when its wave's turn comes (waves/), installs
 * the new release (verified), switches zosd over (VMs, mounts and networks keep running: the new
 * daemon re-adopts them), holds it to the health gate and either keeps it (reports the version on
 * chain) or reverts to the previous release (reports the failure on chain; enough failures mark
 * the release unsafe grid-wide). Every decision is logged; timings go to `upgrades.jsonl`.
 *
 * @example
 * ```ts
 * const u = await startUpgrader(parseUpgraderConfig(json));
 * u.on("upgraded", (r) => console.log(r.version, r.download, r.switch, r.readopt));
 * await u.stop(); // stops zosd too (its VMs keep running)
 * ```
 */
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createGridClient, type GridClient } from "@zgrid/chain";
import { createLogger } from "@zgrid/log";
import { acceptsPrevious, type ReleaseManifest } from "./release/release-manifest.ts";
import { installRelease } from "./release/install-release.ts";
import { installApprovedRelease } from "./release/bare-install.ts";
import { healthGate } from "./runner/health-gate.ts";
import { probeBus } from "./runner/bus-probe.ts";
import { readNodeKey } from "./runner/node-key.ts";
import { qemuPids } from "./runner/vm-pids.ts";
import { readSnapshot, restoreState, rollbackBlocked, snapshotState, stateSchemaOf } from "./runner/state-snapshot.ts";
import { startZosdFrom, type ZosdHandle } from "./runner/zosd-runner.ts";
import { readZosFacts, type UpgraderConfig, type ZosFacts } from "./upgrader-config.ts";
import { appendUpgradeRecord, loadState, saveState, type UpgradeRecord, type UpgraderState } from "./upgrader-state.ts";
import { planWaves, waveGate } from "./waves/wave-plan.ts";
import { readRolloutView } from "./waves/rollout-view.ts";

const log = createLogger("upgrader");
const ZERO_HASH = `0x${"0".repeat(64)}`;
const DEFAULT_ENTRY = { zosd: "packages/zos/bin/zosd.ts" };

export interface Upgrader extends EventEmitter {
  current(): string | undefined;
  zosdPid(): number | undefined;
  nodeId(): number | undefined;
  twinId(): number | undefined;
  /** One pass of the follow loop (the loop runs it every `pollMs`); resolves when it is done. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUpgrader(config: UpgraderConfig): Promise<Upgrader> {
  const zos = readZosFacts(config.zosConfig);
  const versionsDir = join(config.stateDir, "versions");
  const logDir = join(config.stateDir, "logs");
  mkdirSync(versionsDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const state: UpgraderState = loadState(config.stateDir);
  const emitter = new EventEmitter() as Upgrader;
  let zosd: ZosdHandle | undefined;
  let client: GridClient | undefined;
  let reported = "";
  let stopped = false;
  let busy: Promise<void> = Promise.resolve();

  const db = join(zos.dataDir, "zos.db");
  const snapshotDir = (version: string) => join(config.stateDir, "snapshots", version);
  const dirOf = (version: string) => (config.initial && version === config.initial.version && !existsSync(join(versionsDir, version)) ? config.initial.dir : join(versionsDir, version));
  const entryOf = (version: string): ReleaseManifest["entry"] => {
    const installed = join(versionsDir, version, ".installed.json");
    return existsSync(installed) ? (JSON.parse(readFileSync(installed, "utf8")) as { manifest: ReleaseManifest }).manifest.entry : DEFAULT_ENTRY;
  };
  const run = (version: string) => startZosdFrom({ dir: dirOf(version), entry: entryOf(version), configPath: config.zosConfig, version, logFile: join(logDir, `zosd-${version}.log`), readyTimeoutMs: config.health.windowMs });
  const chain = (): GridClient => {
    if (client) return client;
    const key = readNodeKey(zos.dataDir);
    if (!key) throw new Error("the node has no identity yet (zosd creates it on its first start)");
    client = createGridClient({ rpcUrl: zos.chain.rpcUrl, addresses: zos.chain.addresses, account: `0x${Buffer.from(key.privateKey).toString("hex")}`, pollingIntervalMs: 200 });
    return client;
  };
  const report = async (running: string, failed = "") => {
    await chain().reportVersion({ running, failed });
    reported = `${running}/${failed}`;
  };

  // First start: the recorded current version, else the initial one, else (a bare node) the
  // release approved on chain, installed and verified before any zosd runs.
  if (!state.current) {
    state.current = config.initial
      ? config.initial.version
      : (await installApprovedRelease({ zos, versionsDir, releaseKeys: config.releaseKeys, pollMs: config.pollMs, ...(config.stores ? { stores: config.stores } : {}) })).version;
    saveState(config.stateDir, state);
  }
  zosd = run(state.current);
  const ready = await zosd.ready.catch(async (e: unknown) => {
    // the recorded version does not start: fall back to the previous one
    if (!state.previous) throw e;
    const blocked = rollbackBlocked(db, state.previous, readSnapshot(snapshotDir(state.previous)));
    if (blocked) throw new Error(`zosd ${state.current} does not start (${e instanceof Error ? e.message : String(e)}), and ${blocked}`);
    log.error({ err: e, version: state.current }, "zosd does not start, falling back to the previous release");
    await zosd?.stop(5_000);
    [state.current, state.previous] = [state.previous, undefined];
    saveState(config.stateDir, state);
    zosd = run(state.current!);
    return zosd.ready;
  });
  const nodeId = ready.nodeId;
  log.info({ version: state.current, nodeId, pid: zosd.pid }, "zosd running");

  async function tick(): Promise<void> {
    const c = chain();
    const current = state.current!;
    if (reported.split("/")[0] !== current) await report(current, state.failed.at(-1) ?? "");
    const r = await c.getApprovedRelease();
    if (r.manifestHash === ZERO_HASH || r.version === current || !r.safeToUpgrade || state.failed.includes(r.version)) return;
    const view = await readRolloutView(c, { staleSeconds: 3600n });
    const plan = planWaves(r.manifestHash, view.nodes);
    const wave = plan.waveOf(nodeId);
    const gate = waveGate(plan, wave, r.version, view.reports);
    if (!gate.open) {
      log.debug({ version: r.version, wave, waitingFor: gate.waitingFor, failed: gate.failed }, "waiting for earlier waves");
      return;
    }
    await upgrade(r.version, r.manifestUrl, r.manifestHash, wave);
  }

  async function upgrade(version: string, manifestUrl: string, manifestHash: string, wave: number): Promise<void> {
    const from = state.current!;
    const t0 = Date.now();
    const rec = (outcome: UpgradeRecord["outcome"], extra: Partial<UpgradeRecord>): UpgradeRecord => ({
      version, from, outcome, download: 0, switch: 0, readopt: 0, total: (Date.now() - t0) / 1000, wave, at: new Date().toISOString(), ...extra,
    });
    let installed;
    try {
      installed = await installRelease({ manifestUrl, expectedHash: manifestHash, trustedKeys: config.releaseKeys, versionsDir, reuseDir: dirOf(from), ...(config.stores ? { stores: config.stores } : {}) });
      if (!acceptsPrevious(installed.manifest, from)) {
        throw new Error(`release ${version} does not upgrade from ${from} (accepts ${installed.manifest.previous.min ?? "any"} .. ${installed.manifest.previous.max ?? "any"})`);
      }
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      log.error({ version, err: e }, "release refused");
      state.failed.push(version);
      saveState(config.stateDir, state);
      await report(from, version).catch((err: unknown) => log.warn({ err }, "failure report failed"));
      const r = rec("refused", { reason });
      appendUpgradeRecord(config.stateDir, r);
      emitter.emit("refused", r);
      return;
    }
    const download = (Date.now() - t0) / 1000;
    const vmPidsBefore = qemuPids(zos.vmStateDir);
    const t1 = Date.now();
    await zosd!.stop();
    // the state as the running release left it: put back if the new one migrates it and fails
    const snapshot = snapshotState(db, snapshotDir(from));
    const stopSeconds = (Date.now() - t1) / 1000;
    zosd = run(version);
    const verdict = await healthGate({
      zosd, vmPidsBefore, windowMs: config.health.windowMs, settleMs: config.health.settleMs,
      ...(zos.metricsUrl ? { adoptedVms: () => adoptedVms(zos) } : {}),
      probeBus: (ready) => probeBus(ready.peerId, ready.addresses, 5_000),
      uptimeReported: async (ready) => (await chain().getNode(ready.nodeId)).lastUptimeReport >= BigInt(Math.floor(t1 / 1000)) - 5n,
    });
    if (verdict.ok) {
      state.previous = from;
      state.current = version;
      saveState(config.stateDir, state);
      await report(version);
      prune();
      const r = rec("upgraded", { download, switch: stopSeconds + verdict.readyMs / 1000, readopt: (verdict.adoptedMs - verdict.readyMs) / 1000, reusedBytes: installed.reusedBytes });
      appendUpgradeRecord(config.stateDir, r);
      log.info({ ...r }, "upgraded");
      emitter.emit("upgraded", r);
      return;
    }
    log.error({ version, reason: verdict.reason }, "health gate failed: rolling back");
    await zosd.stop(10_000);
    const stateRestored = stateSchemaOf(db) !== snapshot.schema;
    if (stateRestored) {
      log.warn({ version, schema: stateSchemaOf(db), snapshot: snapshot.schema }, "the failed release migrated the node state: restoring the snapshot");
      restoreState(db, snapshot.dir);
    }
    zosd = run(from);
    await zosd.ready;
    state.failed.push(version);
    saveState(config.stateDir, state);
    await report(from, version);
    const r = rec("rolled-back", { download, reason: verdict.reason, switch: (Date.now() - t1) / 1000, stateRestored });
    appendUpgradeRecord(config.stateDir, r);
    emitter.emit("rolled-back", r);
  }

  function prune(): void {
    const keep = new Set([state.current, state.previous]);
    const installed = readdirSync(versionsDir).filter((v) => !v.startsWith(".") && !v.endsWith(".fl") && !keep.has(v));
    for (const v of installed.slice(0, Math.max(0, installed.length - (config.keepVersions - 2)))) rmSync(join(versionsDir, v), { recursive: true, force: true });
    // only the previous release's snapshot can still be restored
    const snaps = join(config.stateDir, "snapshots");
    if (existsSync(snaps)) for (const v of readdirSync(snaps)) if (v !== state.previous) rmSync(join(snaps, v), { recursive: true, force: true });
  }

  const serial = (f: () => Promise<void>) => (busy = busy.then(f, f));
  const timer = setInterval(() => {
    if (!stopped) void serial(() => tick().catch((e: unknown) => log.warn({ err: e }, "upgrade pass failed")));
  }, config.pollMs);
  void serial(() => tick().catch((e: unknown) => log.warn({ err: e }, "upgrade pass failed")));

  return Object.assign(emitter, {
    current: () => state.current,
    zosdPid: () => zosd?.pid,
    nodeId: () => nodeId,
    twinId: () => ready.twinId,
    tick: () => serial(tick),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy.catch(() => undefined);
      await zosd?.stop();
    },
  });
}

async function adoptedVms(zos: ZosFacts): Promise<number> {
  const res = await fetch(zos.metricsUrl!, { signal: AbortSignal.timeout(5_000) });
  const m = /^zgrid_zos_vms (\d+)$/m.exec(await res.text());
  return m ? Number(m[1]) : 0;
}
