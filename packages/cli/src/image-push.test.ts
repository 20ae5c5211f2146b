// `zgrid image push` against a real registry (docker-registry, an image made with umoci) and a real
// hub, no VMs: converted, signed with the twin key from the environment (never printed), pushed,
// listed under the twin's address by name; a second push uploads no block and asks the hub once.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { listHubFlists, readFlistMeta, startHub } from "@zgrid/flist";
import { startRegistry } from "@zgrid/flist/testing";
import { twinKeyFromMnemonic } from "@zgrid/types";
import { buildBusyboxRoot } from "@zgrid/zos/testing";

const ZGRID = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));
const MNEMONIC = "test test test test test test test test test test test junk";

test("zgrid image push: convert, sign with the twin key, push missing blocks, usable by name", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-image-push-"));
  const registry = await startRegistry(join(dir, "registry"));
  const hub = await startHub({ dataDir: join(dir, "hub") });
  t.after(async () => {
    await hub.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  };
  run("umoci", ["init", "--layout", "img"]);
  run("umoci", ["new", "--image", "img:1"]);
  run("umoci", ["unpack", "--image", "img:1", "bundle"]);
  rmSync(join(dir, "bundle/rootfs"), { recursive: true });
  await buildBusyboxRoot(join(dir, "bundle/rootfs"), "#!/bin/sh\nexec httpd -f -p 8000\n");
  run("umoci", ["repack", "--image", "img:1", "bundle"]);
  run("umoci", ["config", "--image", "img:1", "--config.entrypoint", "/start.sh", "--config.exposedports", "8000/tcp"]);
  run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${join(dir, "img")}:1`, `docker://${registry.host}/shop/app:1.0`]);

  // asynchronously: the hub answers from this process
  const push = () => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [ZGRID, "--data-dir", join(dir, "data"), "--json", "image", "push", `${registry.host}/shop/app:1.0`], {
      encoding: "utf8", env: { ...process.env, ZGRID_HUB: hub.url, ZGRID_MNEMONIC: MNEMONIC, ZGRID_LOG_LEVEL: "warn" }, maxBuffer: 64 * 2 ** 20,
    }, (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
  const first = await push();
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const out = JSON.parse(first.stdout) as { name: string; url: string; owner: string; uploadedBlocks: number; digest: string };
  const key = twinKeyFromMnemonic(MNEMONIC);
  assert.equal(out.name, "app");
  assert.equal(out.owner, key.address);
  assert.ok(out.uploadedBlocks > 0);
  assert.match(out.digest, /^sha256:/);
  assert.ok(!(first.stdout + first.stderr).includes(Buffer.from(key.privateKey).toString("hex")), "the key is never printed");
  const events = first.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { phase: string });
  assert.ok(events.some((e) => e.phase === "layer") && events.some((e) => e.phase === "check"), "--json: progress as JSON lines on stderr");
  const listed = await listHubFlists(hub.url, key.address);
  assert.deepEqual(listed.map((e) => e.name), ["app.fl"], "listed by name under the twin");
  const meta = readFlistMeta(join(dir, "hub", "flists", key.address, "app.fl"));
  assert.equal(meta.signer, key.address);
  assert.equal(meta.tags["zgrid.ports"], "8000/tcp");

  const requests: string[] = [];
  hub.server.on("request", (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url?.split("/").slice(0, 3).join("/")}`));
  const second = await push();
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.equal((JSON.parse(second.stdout) as { uploadedBlocks: number }).uploadedBlocks, 0);
  assert.deepEqual(requests, ["POST /blocks/missing", `PUT /flists/${key.address}`], "one batch check, then the flist");
});
