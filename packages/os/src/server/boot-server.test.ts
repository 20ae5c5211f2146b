import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startBootServer } from "./boot-server.ts";
import { ipxeScript } from "./ipxe-script.ts";

test("serves the iPXE script with the farm's kernel line, the image files, and nothing else", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-bootsrv-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "vmlinuz"), Buffer.alloc(1000, 1));
  writeFileSync(join(dir, "initrd.img"), Buffer.alloc(3000, 2));
  const s = await startBootServer({ imageDir: dir, kernelLine: "zgrid.farm=9 zgrid.net=dhcp", host: "127.0.0.1" });
  t.after(() => s.close());
  const script = await (await fetch(s.scriptUrl)).text();
  assert.match(script, /^#!ipxe\n/);
  assert.match(script, new RegExp(`kernel ${s.url}/vmlinuz initrd=initrd.img console=tty0 console=ttyS0 .*zgrid.farm=9 zgrid.net=dhcp\n`));
  assert.match(script, new RegExp(`initrd ${s.url}/initrd.img\n`));
  assert.equal((await (await fetch(`${s.url}/initrd.img`)).arrayBuffer()).byteLength, 3000);
  assert.equal((await fetch(`${s.url}/../etc/passwd`)).status, 404);
  assert.equal((await fetch(`${s.url}/zgrid.iso`)).status, 404);
  assert.equal((await fetch(`${s.url}/vmlinuz`, { method: "PUT", body: "x" })).status, 405);
  assert.equal(s.stats().bytes, script.length + 3000);
});

test("refuses to start without a built image, and a kernel line with a line break", async () => {
  await assert.rejects(startBootServer({ imageDir: "/nonexistent", kernelLine: "", host: "127.0.0.1" }), /build the image/);
  assert.throws(() => ipxeScript({ baseUrl: "http://x", kernelLine: "a\nshell" }), /line break/);
});
