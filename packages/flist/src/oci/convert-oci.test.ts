import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, linkSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import tar from "tar-stream";
import { twinKeyFromMnemonic } from "@zgrid/types";
import { OciError } from "../errors/flist-errors.ts";
import { FlistReader } from "../format/flist-reader.ts";
import { startHub } from "../hub/hub-server.ts";
import { convertOnHub } from "../hub/hub-client.ts";
import { assertSameTree, describeTree, makeSampleTree, type EntryDescription } from "../testing/sample-tree.ts";
import { startRegistry } from "../testing/registry.ts";
import { runChild } from "../testing/run-child.ts";
import { unpackFlist } from "../unpack-flist.ts";
import { readFlistMeta } from "../read-flist-meta.ts";
import { verifyFlist } from "../verify-flist.ts";
import { convertOci } from "./convert-oci.ts";
import { RootfsBuilder } from "./rootfs-builder.ts";

const key = twinKeyFromMnemonic("test test test test test test test test test test test junk");

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The importer adds /.startup.toml; the root dir is the builder's; layers carry whole seconds (umoci rounds or truncates). */
const sameTree = (actual: EntryDescription[], expected: EntryDescription[], what: string): void =>
  assertSameTree(actual, expected, { mtimeToleranceUs: 1_000_000, skip: (e) => e.path === "/.startup.toml" || e.path === "/", what });

test("OCI image made with umoci, pushed with skopeo to a real registry, converted -> files equal", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-oci-test-"));
  const registry = await startRegistry(join(dir, "registry"));
  const hub = await startHub({ dataDir: join(dir, "hub"), key });
  t.after(async () => {
    await registry.stop();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Layer 1: the sample tree plus files the next layer deletes; layer 2: a whiteout, an opaque
  // directory replacement and a new file.
  run("umoci", ["init", "--layout", "img"], dir);
  run("umoci", ["new", "--image", "img:latest"], dir);
  run("umoci", ["unpack", "--image", "img:latest", "bundle"], dir);
  const rootfs = join(dir, "bundle/rootfs");
  rmSync(rootfs, { recursive: true });
  makeSampleTree(rootfs, { bigFileBytes: 900_000 });
  writeFileSync(join(rootfs, "etc/doomed"), "to be deleted\n");
  cpSync(join(rootfs, "etc/conf.d"), join(rootfs, "opaque"), { recursive: true });
  run("umoci", ["repack", "--refresh-bundle", "--image", "img:latest", "bundle"], dir);
  unlinkSync(join(rootfs, "etc/doomed"));
  rmSync(join(rootfs, "opaque"), { recursive: true });
  run("mkdir", [join(rootfs, "opaque")]);
  writeFileSync(join(rootfs, "opaque/new"), "layer 2\n");
  writeFileSync(join(rootfs, "bin/added"), "layer 2 file\n");
  linkSync(join(rootfs, "bin/added"), join(rootfs, "bin/added-link"));
  run("umoci", ["repack", "--image", "img:latest", "bundle"], dir);
  run("umoci", ["config", "--image", "img:latest", "--config.entrypoint", "/bin/entry.sh", "--config.cmd", "--flag", "--config.env", "FOO=bar", "--config.workingdir", "/etc"], dir);
  const expected = describeTree(rootfs);

  const check = async (name: string, source: Parameters<typeof convertOci>[0]["source"]): Promise<void> => {
    const fl = join(dir, `${name}.fl`);
    const result = await convertOci({ source, output: fl, stores: [`dir://${join(dir, "store")}`], key });
    assert.equal(result.layers, 2, name);
    assert.deepEqual(result.startup, { name: "/bin/entry.sh", args: ["--flag"], env: { FOO: "bar" }, dir: "/etc", entrypoint: ["/bin/entry.sh"], cmd: ["--flag"] });
    await unpackFlist({ flist: fl, target: join(dir, `out-${name}`), trustedSigners: [key.address] });
    sameTree(describeTree(join(dir, `out-${name}`)), expected, name);
    const toml = readFileSync(join(dir, `out-${name}/.startup.toml`), "utf8");
    assert.match(toml, /name = "\/bin\/entry.sh"/);
    assert.match(toml, /"FOO" = "bar"/);
    const reader = FlistReader.open(fl);
    assert.deepEqual(JSON.parse(reader.tag("zgrid.entrypoint")!), result.startup);
    reader.close();
    const meta = readFlistMeta(fl);
    assert.deepEqual(meta.startup, result.startup);
    assert.equal(meta.signer, key.address);
    assert.equal(meta.mode, "container");
  };

  await check("layout", { layout: join(dir, "img"), tag: "latest" });
  run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "oci:" + join(dir, "img") + ":latest", `docker://${registry.host}/demo/app:1.0`]);
  await check("registry", { registry: `${registry.host}/demo/app:1.0` });
  run("skopeo", ["copy", "--quiet", "oci:" + join(dir, "img") + ":latest", `docker-archive:${join(dir, "app.tar")}:demo/app:1.0`]);
  await check("archive", { dockerArchive: join(dir, "app.tar") });

  // The hub converts on a signed request, streaming progress, and publishes under its own address.
  const unsigned = await fetch(`${hub.url}/convert`, { method: "POST", body: JSON.stringify({ image: `${registry.host}/demo/app:1.0` }) });
  assert.equal(unsigned.status, 401, "anonymous conversions are refused");
  const events: Array<{ phase: string }> = [];
  const last = await convertOnHub({ hub: hub.url, image: `${registry.host}/demo/app:1.0`, key, onProgress: (e) => events.push(e) });
  assert.equal(events.filter((e) => e.phase === "layer").length, 2);
  assert.equal(last.owner, key.address);
  assert.equal(last.name, "app-1.0.fl");
  assert.equal(last.cached, false);
  assert.match(last.digest ?? "", /^sha256:[0-9a-f]{64}$/);
  // the same image again: cached by digest, answered without pulling a layer
  const again: Array<{ phase: string }> = [];
  const cached = await convertOnHub({ hub: hub.url, image: `${registry.host}/demo/app:1.0`, key, onProgress: (e) => again.push(e) });
  assert.equal(cached.cached, true);
  assert.equal(cached.url, last.url);
  assert.deepEqual(again.filter((e) => e.phase === "blob" || e.phase === "layer"), [], "no layer pulled");
  const fromHub = join(dir, "hub-app.fl");
  writeFileSync(fromHub, Buffer.from(await (await fetch(String(last.url))).arrayBuffer()));
  assert.equal((await verifyFlist({ flist: fromHub, trustedSigners: [key.address] })).ok, true);

  await assert.rejects(convertOci({ source: { registry: `${registry.host}/demo/missing:1` }, output: join(dir, "x.fl"), stores: [`dir://${join(dir, "store")}`] }), OciError);
  assert.equal(existsSync(join(dir, "x.fl")), false);
});

test("registry with token auth: skopeo pushes with credentials, the importer pulls with an anonymous bearer token", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-oci-token-"));
  const registry = await startRegistry(join(dir, "registry"), { tokenAuth: true });
  t.after(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const unauth = await fetch(`http://${registry.host}/v2/`);
  assert.equal(unauth.status, 401);
  assert.match(unauth.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
  run("umoci", ["init", "--layout", "img"], dir);
  run("umoci", ["new", "--image", "img:latest"], dir);
  run("umoci", ["unpack", "--image", "img:latest", "bundle"], dir);
  writeFileSync(join(dir, "bundle/rootfs/hello"), "token auth\n");
  run("umoci", ["repack", "--image", "img:latest", "bundle"], dir);
  // The token service runs in this process: skopeo must not block the event loop.
  const push = await runChild("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "tester:secret", `oci:${join(dir, "img")}:latest`, `docker://${registry.host}/demo/secret:1`]);
  assert.equal(push.status, 0, push.stderr);
  const before = registry.tokensIssued;
  const result = await convertOci({ source: { registry: `${registry.host}/demo/secret:1` }, output: join(dir, "s.fl"), stores: [`dir://${join(dir, "store")}`] });
  assert.equal(result.layers, 1);
  assert.ok(registry.tokensIssued > before, "the importer fetched a token");
  await unpackFlist({ flist: join(dir, "s.fl"), target: join(dir, "out") });
  assert.equal(readFileSync(join(dir, "out/hello"), "utf8"), "token auth\n");
});

async function writeTar(path: string, entries: Array<{ header: Partial<tar.Header> & { name: string }; body?: string }>, gzip = false): Promise<void> {
  const pack = tar.pack();
  for (const e of entries) pack.entry(e.header as tar.Header, e.body ?? "");
  pack.finalize();
  if (gzip) await pipeline(pack, createGzip(), createWriteStream(path));
  else await pipeline(pack, createWriteStream(path));
}

test("hostile or broken layers are refused with OciError and write nothing outside the root", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-oci-bad-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const outside = join(dir, "outside");
  await writeTar(join(dir, "dotdot.tar"), [{ header: { name: "../outside", type: "file" }, body: "x" }]);
  await assert.rejects(new RootfsBuilder(join(dir, "r1")).applyLayer(join(dir, "dotdot.tar")), (e) => e instanceof OciError && /escapes/.test(e.message));
  await writeTar(join(dir, "symlink.tar"), [
    { header: { name: "link", type: "symlink", linkname: dir } },
    { header: { name: "link/outside", type: "file" }, body: "x" },
  ]);
  await assert.rejects(new RootfsBuilder(join(dir, "r2")).applyLayer(join(dir, "symlink.tar")), (e) => e instanceof OciError && /through a symlink/.test(e.message));
  await writeTar(join(dir, "hardlink.tar"), [{ header: { name: "h", type: "link", linkname: "../../etc/passwd" } }]);
  await assert.rejects(new RootfsBuilder(join(dir, "r3")).applyLayer(join(dir, "hardlink.tar")), OciError);
  assert.equal(existsSync(outside), false);
  await writeTar(join(dir, "good.tar.gz"), [{ header: { name: "big", type: "file" }, body: "y".repeat(100_000) }], true);
  writeFileSync(join(dir, "cut.tar.gz"), readFileSync(join(dir, "good.tar.gz")).subarray(0, 60));
  await assert.rejects(new RootfsBuilder(join(dir, "r4")).applyLayer(join(dir, "cut.tar.gz")), (e) => e instanceof OciError && /unreadable/.test(e.message));
  writeFileSync(join(dir, "junk.tar"), "this is not a tarball at all".repeat(40));
  await assert.rejects(convertOci({ source: { dockerArchive: join(dir, "junk.tar") }, output: join(dir, "j.fl"), stores: [`dir://${join(dir, "s")}`] }), OciError);
  await assert.rejects(convertOci({ source: { layout: join(dir, "nope") }, output: join(dir, "j.fl"), stores: [`dir://${join(dir, "s")}`] }), OciError);
});
