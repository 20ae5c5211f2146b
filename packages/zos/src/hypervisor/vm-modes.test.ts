// Own-kernel and full-VM modes boot real QEMU (TCG): the image's kernel on microvm, and SeaBIOS on
// q35 booting a raw image (a hand-made boot sector that prints a marker on COM1).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Hypervisor } from "./hypervisor.ts";
import { findGuest } from "./guest-artifacts.ts";
import { isVmProcess } from "./vm-process.ts";

/** 512-byte MBR: real-mode code writing "ZGRID-FULLVM-BOOT" to port 0x3f8, then hlt forever. */
function markerBootSector(): Buffer {
  const code = [0x31, 0xc0, 0x8e, 0xd8, 0xfc, 0xba, 0xf8, 0x03, 0xbe, 0x18, 0x7c, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xfa, 0xf4, 0xeb, 0xfc, 0x90];
  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector, 0);
  Buffer.from("ZGRID-FULLVM-BOOT\r\n\0", "latin1").copy(sector, 24);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

describe("own-kernel and full-VM modes (real QEMU, TCG)", { timeout: 180_000 }, () => {
  let work: string;
  let hv: Hypervisor;

  before(async () => {
    work = await mkdtemp("/tmp/zmode-");
    hv = new Hypervisor({ stateDir: join(work, "s"), accel: "tcg" });
  });

  after(async () => {
    for (const vm of await hv.list()) await hv.delete(vm).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("full mode: firmware boots the raw image; stop leaves nothing behind", async () => {
    const image = join(work, "full.img");
    await writeFile(image, markerBootSector());
    const s = await hv.start({ id: "t-full", mode: "full", memoryMiB: 64, rootDisk: { path: image, sizeBytes: 1 << 20 } });
    assert.equal(s.state, "running");
    await hv.waitForConsole("t-full", /ZGRID-FULLVM-BOOT/, 60_000);
    assert.ok(existsSync(join(hv.paths("t-full").dir, "seed.img")), "cloud-init seed attached");
    await hv.stop("t-full", { graceMs: 300 });
    assert.ok(!isVmProcess(s.pid!, "qemu"));
    assert.ok(!existsSync(hv.paths("t-full").qmpSocket));
    await hv.delete("t-full");
    assert.ok(!existsSync(image), "image removed on delete (not keep)");
  });

  test("kernel mode: boots the image's own kernel + initrd with its cmdline", async () => {
    const guest = findGuest();
    const image = join(work, "k.img");
    await writeFile(image, Buffer.alloc(4096));
    await hv.start({ id: "t-kern", mode: "kernel", memoryMiB: 128, boot: { kernel: guest.kernel, initrd: guest.initrd, cmdline: "zgrid.probe" },
      rootDisk: { path: image, sizeBytes: 1 << 20, keep: true } });
    await hv.waitForConsole("t-kern", /ZGRID-PROBE-OK/, 60_000);
    await hv.delete("t-kern");
    assert.ok(existsSync(image), "kept image survives delete");
  });

  test("a missing boot image fails the start cleanly", async () => {
    await assert.rejects(hv.start({ id: "t-noimg", mode: "full", rootDisk: { path: join(work, "none.img"), sizeBytes: 1 << 20 } }), /boot image/);
    assert.equal((await hv.status("t-noimg")).state, "stopped");
  });
});
