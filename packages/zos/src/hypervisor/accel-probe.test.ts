// The accelerator probe boots the real guest kernel: KVM hangs or fails here, so it must fall back to TCG.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { probeAccel } from "./accel-probe.ts";
import { findGuest } from "./guest-artifacts.ts";

test("TCG boots the guest to userspace; a broken or absent KVM falls back to TCG and is cached", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zprobe-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const guest = findGuest();
  const tcg = await probeAccel({ guest, accel: "tcg", force: true, cacheFile: join(dir, "tcg.json"), timeoutMs: 60_000 });
  assert.equal(tcg.accel, "tcg");
  assert.match(tcg.reason, /booted/);

  const cacheFile = join(dir, "kvm.json");
  const first = await probeAccel({ guest, force: true, cacheFile, timeoutMs: 5_000 });
  // Where KVM really works this is "kvm"; on these machines KVM guests hang or QEMU aborts.
  assert.ok(first.accel === "tcg" || /booted/.test(first.reason), first.reason);
  const cached = await probeAccel({ guest, cacheFile });
  assert.equal(cached.accel, first.accel);
  assert.equal(cached.probeMs, 0);
});
