import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildRedisCliRoot, redisCliFiles, redisToolsVersion } from "./redis-cli-flist.ts";
import { freePort } from "@zgrid/types/free-port";

test("the redis image's root: Debian's redis-cli and every library it loads; it runs chrooted there and talks to redis-server", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-redis-root-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.match(redisToolsVersion(), /^\d+:?[\d.]+/);
  const root = join(dir, "root");
  await buildRedisCliRoot(root);
  const files = redisCliFiles();
  assert.ok(files.includes("/usr/bin/redis-cli") && files.some((f) => f.includes("ld-linux")) && files.some((f) => f.includes("libssl")), files.join(" "));
  for (const f of files) assert.ok(lstatSync(join(root, f)).isFile(), `${f}: a regular file in the root`);
  assert.ok(existsSync(join(root, "bin/sh")) && existsSync(join(root, "start.sh")));
  // nothing but the root: chroot, empty environment
  const version = spawnSync("/usr/sbin/chroot", [root, "/usr/bin/redis-cli", "--version"], { encoding: "utf8", env: {} });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^redis-cli \d+\.\d+/);
  const port = await freePort();
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  t.after(() => server.kill("SIGKILL"));
  let out = "";
  for (let i = 0; i < 50 && !/OK[\s\S]*"v1"/.test(out); i++) {
    await new Promise((r) => setTimeout(r, 100));
    out = spawnSync("/usr/sbin/chroot", [root, "/bin/sh", "-c", `printf 'SET k v1\\nGET k\\n' | redis-cli --no-raw -h 127.0.0.1 -p ${port}`], { encoding: "utf8", env: {} }).stdout;
  }
  assert.match(out, /^OK\n"v1"\n$/);
});
