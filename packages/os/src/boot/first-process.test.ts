// The boot image's first process refuses a release not signed by a key of the kernel line: the
// console says FATAL with the reason and a hint, nothing is mounted, the entry never runs. (The
// signature is checked before any mount, so this runs on the host without FUSE or a VM; a tampered
// block is checked by stateless-boot.e2e.test.ts in a real boot.)
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { startReleaseHub } from "../testing/release-fixture.ts";
import { firstProcess } from "./first-process.ts";

test("a release signed by a key not on the kernel line, or missing from the hub, stops the boot with a clear FATAL line before anything is mounted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-first-process-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const signer = twinKeyFromPrivateKey(randomBytes(32));
  const hub = await startReleaseHub({ dir: join(dir, "rel"), host: "127.0.0.1", key: signer, payloadBytes: 64 * 1024, entry: "#!/bin/sh\necho ZGRID-RELEASE-ENTRY-RAN\n" });
  t.after(() => hub.close());
  const boot = async (keys: string, release = hub.releaseName) => {
    const lines: string[] = [];
    const mountpoint = join(dir, `mnt-${randomBytes(2).toString("hex")}`);
    const code = await firstProcess({ cmdline: `console=ttyS0 zgrid.farm=1 zgrid.rpc=http://127.0.0.1:9 zgrid.hub=${hub.url} zgrid.keys=${keys} zgrid.release=${release}`,
      dataDir: join(dir, "disk"), cacheDir: join(dir, "cache"), mountpoint, say: (l) => lines.push(l) });
    return { code, lines, mounted: existsSync(mountpoint) && readdirSync(mountpoint).length > 0 };
  };
  const other = twinKeyFromPrivateKey(randomBytes(32));
  const wrong = await boot(other.address);
  assert.equal(wrong.code, 1);
  const fatal = wrong.lines.find((l) => l.startsWith("FATAL"));
  assert.match(fatal ?? "", new RegExp(`^FATAL BOOT_RELEASE: release .*${hub.releaseName.replace(/[.]/g, "\\.")} refused: FLIST_SIGNATURE: .*${signer.address.slice(2, 10)}.*not a trusted signer`, "i"), wrong.lines.join("\n"));
  assert.ok(wrong.lines.some((l) => /hint: the release is not signed by a key of zgrid\.keys/.test(l)), "a hint says what to check");
  assert.ok(!wrong.lines.some((l) => /starting|mounted|ZGRID-RELEASE-ENTRY-RAN/.test(l)), "nothing was mounted or run");
  assert.equal(wrong.mounted, false);
  // a release the hub does not have
  const missing = await boot(signer.address, `${signer.address}/nope.fl`);
  assert.equal(missing.code, 1);
  assert.match(missing.lines.find((l) => l.startsWith("FATAL")) ?? "", /FATAL BOOT_RELEASE: release .*nope\.fl refused: .*(404|not found)/i, missing.lines.join("\n"));
});
