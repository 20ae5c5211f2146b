import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ZOSD_NODE_OPTIONS } from "@zgrid/zos/node-flags";
import { startZosdFrom, zosdNodeFlags } from "./zosd-runner.ts";

const ENTRY = "packages/zos/bin/zosd.ts";

/**
 * An unpacked release as buildRelease lays it out (workspace links relative), holding only what
 * this test needs: @zgrid/types' strip-cache preload (the real files) and a stand-in zosd that
 * prints its ready line with the Node flags and environment it was started with.
 */
function fakeRelease(dir: string, o: { withTypes: boolean }): string {
  const rel = join(dir, "versions", "2.0.0");
  mkdirSync(join(rel, dirname(ENTRY)), { recursive: true });
  writeFileSync(join(rel, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
  writeFileSync(join(rel, ENTRY), [
    "const ready: Record<string, unknown> = { ready: true, account: '0x', twinId: 1, nodeId: 1, peerId: 'p', addresses: [],",
    "  execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null };",
    "console.log(JSON.stringify(ready));",
    "setInterval(() => undefined, 1000);",
    "",
  ].join("\n"));
  if (o.withTypes) {
    const types = join(dirname(fileURLToPath(import.meta.resolve("@zgrid/types/strip-cache"))), "..", "..");
    mkdirSync(join(rel, "packages", "types", "src", "runtime"), { recursive: true });
    copyFileSync(join(types, "package.json"), join(rel, "packages", "types", "package.json"));
    for (const f of ["strip-cache.js", "strip-cache-register.js"]) copyFileSync(join(types, "src", "runtime", f), join(rel, "packages", "types", "src", "runtime", f));
    mkdirSync(join(rel, "node_modules", "@zgrid"), { recursive: true });
    symlinkSync("../../packages/types", join(rel, "node_modules", "@zgrid", "types"));
  }
  return rel;
}

test("zosd from a release runs with zosd's Node flags and environment; the --import preload is the release's own file, and it runs", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-runner-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rel = fakeRelease(dir, { withTypes: true });
  const cache = join(dir, "cache");
  const z = startZosdFrom({ dir: rel, entry: { zosd: ENTRY }, configPath: join(dir, "zos.json"), version: "2.0.0", logFile: join(dir, "zosd.log"),
    readyTimeoutMs: 60_000, env: { ZGRID_CACHE_DIR: cache, ZGRID_STRIP_CACHE: "1", MALLOC_ARENA_MAX: "" } });
  t.after(() => z.stop(2_000));
  const ready = (await z.ready) as unknown as { execArgv: string[]; arenas: string | null };
  for (const flag of ZOSD_NODE_OPTIONS) assert.ok(ready.execArgv.includes(flag), `${flag} in ${ready.execArgv.join(" ")}`);
  const imports = ready.execArgv.filter((a) => a.startsWith("--import="));
  assert.deepEqual(imports, [`--import=${pathToFileURL(join(rel, "packages", "types", "src", "runtime", "strip-cache-register.js")).href}`], "the preload comes from the release, not the upgrader's checkout");
  assert.equal(ready.arenas, "", "the caller's env wins over ZOSD_ENV (here: set empty on purpose)");
  // the preload really ran: the release's zosd entry went through the stripped-source cache
  const stripped = readdirSync(join(cache, `ts-${process.version}`)).filter((f) => f.endsWith(".js"));
  assert.equal(stripped.length, 1, "the release's zosd entry went through the stripped-source cache");
  await z.stop(2_000);
});

test("ZOSD_ENV is in zosd's environment unless the caller sets the variable", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-runner-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rel = fakeRelease(dir, { withTypes: false });
  const z = startZosdFrom({ dir: rel, entry: { zosd: ENTRY }, configPath: join(dir, "zos.json"), version: "2.0.0", logFile: join(dir, "zosd.log"), readyTimeoutMs: 60_000 });
  t.after(() => z.stop(2_000));
  const ready = (await z.ready) as unknown as { execArgv: string[]; arenas: string | null };
  assert.equal(ready.arenas, "2");
  await z.stop(2_000);
});

test("a release without the preload's package (older than the flag) runs zosd with the other flags, not with the upgrader's file", () => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-runner-"));
  try {
    const rel = fakeRelease(dir, { withTypes: false });
    assert.deepEqual(zosdNodeFlags(rel, ENTRY), [...ZOSD_NODE_OPTIONS]);
    assert.ok(zosdNodeFlags(fakeRelease(join(dir, "b"), { withTypes: true }), ENTRY).some((f) => f.startsWith(`--import=${pathToFileURL(dir).href}/b/`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
