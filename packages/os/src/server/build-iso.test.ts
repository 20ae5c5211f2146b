import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildIso } from "./build-iso.ts";

test("ISO: bootable (El Torito + hybrid MBR), the farm's kernel line in isolinux.cfg, same bytes twice", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-iso-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "vmlinuz"), Buffer.alloc(4096, 1));
  writeFileSync(join(dir, "initrd.img"), Buffer.alloc(8192, 2));
  const a = await buildIso({ imageDir: dir, kernelLine: "zgrid.farm=5 zgrid.net=dhcp", output: join(dir, "a.iso") });
  const b = await buildIso({ imageDir: dir, kernelLine: "zgrid.farm=5 zgrid.net=dhcp", output: join(dir, "b.iso") });
  assert.ok(a.bytes > 12288);
  assert.ok(readFileSync(a.output).equals(readFileSync(b.output)), "reproducible");
  const iso = readFileSync(a.output);
  assert.equal(iso.readUInt16LE(510), 0xaa55, "hybrid MBR: boots from a USB stick too");
  const cfg = spawnSync("xorriso", ["-indev", a.output, "-osirrox", "on", "-extract", "/isolinux/isolinux.cfg", join(dir, "cfg")], { encoding: "utf8" });
  assert.equal(cfg.status, 0, cfg.stderr);
  assert.match(readFileSync(join(dir, "cfg"), "utf8"), /APPEND console=tty0 console=ttyS0 .*zgrid.farm=5 zgrid.net=dhcp\n/);
  const report = spawnSync("xorriso", ["-indev", a.output, "-report_el_torito", "plain"], { encoding: "utf8" });
  assert.match(report.stdout + report.stderr, /isolinux\/isolinux.bin|El Torito boot img/i);
});
