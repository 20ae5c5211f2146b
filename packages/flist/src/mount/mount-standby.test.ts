// The standby mount process: a persistent mount takes it (same command line and log a cold worker
// would have), the next one is started afterwards, and a standby never outlives its parent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packFlist } from "../pack/pack-flist.ts";
import { lazyUnmount, mountFlist } from "./mount-flist.ts";
import { mountStandbyState, startMountStandby, stopMountStandby } from "./mount-standby.ts";

const STANDBY = fileURLToPath(new URL("./mount-standby.ts", import.meta.url));
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0+$/, "").replaceAll("\0", " ");
async function until<T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}
const standbyLogs = (dir: string) => readdirSync(dir).filter((e) => e.startsWith(".mount-standby-"));

function setup(t: { after(fn: () => Promise<void> | void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-standby-test-"));
  mkdirSync(join(dir, "src/bin"), { recursive: true });
  writeFileSync(join(dir, "src/bin/hello"), "hello from the flist\n");
  mkdirSync(join(dir, "cache"));
  t.after(() => {
    stopMountStandby();
    for (const line of spawnSync("pgrep", ["-af", "mount-worker"], { encoding: "utf8" }).stdout.split("\n")) {
      if (line.includes(dir)) spawnSync("kill", ["-9", line.split(" ")[0]!]);
    }
    for (const m of ["m1", "m2"]) lazyUnmount(join(dir, m));
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test("a persistent mount takes the standby: the cold worker's command line and log; the next standby follows", async (t) => {
  const dir = setup(t);
  await packFlist({ source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  const cache = { dir: join(dir, "cache"), maxBytes: 2 ** 26 };
  startMountStandby(cache.dir);
  const standby = await until("the standby listening", () => mountStandbyState()?.listening && mountStandbyState());
  assert.equal(standbyLogs(cache.dir).length, 1, "the standby logs under the cache directory");

  const m1 = await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "m1"), cache, persist: true, standby: true });
  assert.equal(m1.pid, standby.pid, "the standby serves the mount");
  assert.equal(spawnSync("cat", [join(dir, "m1/bin/hello")], { encoding: "utf8" }).stdout, "hello from the flist\n", "read through the mount (from another process)");
  const line = cmdline(m1.pid);
  assert.ok(line.includes("mount-worker.ts") && line.includes(JSON.stringify({ mountpoint: join(dir, "m1") }).slice(1, -1)), `the cold worker's command line: ${line.slice(0, 300)}`);
  assert.ok(existsSync(join(dir, "m1.log")), "its log is the mount's");
  assert.deepEqual(standbyLogs(cache.dir), [], "no standby log left behind");

  const next = await until("the next standby", () => mountStandbyState()?.listening && mountStandbyState(), 20_000);
  assert.notEqual(next.pid, m1.pid);
  const m2 = await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "m2"), cache, persist: true, standby: true });
  assert.equal(m2.pid, next.pid, "the second mount takes the next standby");
  assert.equal(spawnSync("cat", [join(dir, "m2/bin/hello")], { encoding: "utf8" }).stdout, "hello from the flist\n");

  // stopping the standby ends it; the mounts stay
  const third = await until("a third standby", () => mountStandbyState()?.listening && mountStandbyState(), 20_000);
  stopMountStandby();
  await until("the stopped standby gone", () => !alive(third.pid));
  await until("its log removed", () => standbyLogs(cache.dir).length === 0);
  assert.ok(alive(m1.pid) && alive(m2.pid), "the mounts' processes are not the standby's business");
  process.kill(m1.pid, "SIGTERM");
  process.kill(m2.pid, "SIGTERM");
  await until("the mounts' processes end", () => !alive(m1.pid) && !alive(m2.pid));
});

test("a standby whose parent is SIGKILLed exits and removes its log", async (t) => {
  const dir = setup(t);
  const code = `import { startMountStandby, mountStandbyState } from ${JSON.stringify(STANDBY)};
startMountStandby(${JSON.stringify(join(dir, "cache"))});
const iv = setInterval(() => { const s = mountStandbyState(); if (s?.listening) { console.log(s.pid); clearInterval(iv); setInterval(() => {}, 1000); } }, 20);`;
  const parent = spawn(process.execPath, ["--no-warnings", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const pid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()))));
  assert.ok(alive(pid) && standbyLogs(join(dir, "cache")).length === 1, "the standby runs and logs");
  parent.kill("SIGKILL");
  await until("the orphaned standby gone", () => !alive(pid), 10_000);
  await until("its log removed", () => standbyLogs(join(dir, "cache")).length === 0, 5_000);
});
