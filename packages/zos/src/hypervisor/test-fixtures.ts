/**
 * Test helpers for VM tests (not part of the public API): a busybox root directory with an
 * entrypoint script, and a throwaway host bridge with a unique name and subnet.
 *
 * @example
 * ```ts
 * await buildBusyboxRoot("/tmp/x/root", "#!/bin/sh\necho hi\nexec sleep 1000\n");
 * const br = await createTestBridge();   // { name, hostIp, guestIp(n), prefix, remove() }
 * ```
 */
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { runHost } from "./host-command.ts";

/** A root filesystem with busybox-static, its applet links and `/start.sh` = `entrypoint`. */
export async function buildBusyboxRoot(dir: string, entrypoint: string): Promise<void> {
  for (const d of ["bin", "sbin", "etc", "root", "tmp", "proc", "sys", "dev", "data"]) await mkdir(join(dir, d), { recursive: true });
  await copyFile("/bin/busybox", join(dir, "bin/busybox"));
  await chmod(join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
  for (const a of applets) await symlink("busybox", join(dir, "bin", a)).catch(() => undefined);
  await writeFile(join(dir, "start.sh"), entrypoint, { mode: 0o755 });
}

export interface TestBridge {
  name: string;
  hostIp: string;
  prefix: number;
  guestIp(n: number): string;
  remove(): Promise<void>;
}

/** A host bridge `zb<hex>` with 10.213.<rand>.1/24; remove() deletes it. */
export async function createTestBridge(): Promise<TestBridge> {
  const name = "zb" + randomBytes(4).toString("hex");
  const net = `10.213.${randomBytes(1)[0]!}`;
  await runHost("ip", ["link", "add", name, "type", "bridge"]);
  try {
    await runHost("ip", ["addr", "add", `${net}.1/24`, "dev", name]);
    await runHost("ip", ["link", "set", name, "up"]);
  } catch (e) {
    await runHost("ip", ["link", "del", name]).catch(() => undefined);
    throw e;
  }
  return {
    name,
    hostIp: `${net}.1`,
    prefix: 24,
    guestIp: (n) => `${net}.${n}`,
    remove: () => runHost("ip", ["link", "del", name]).then(() => undefined, () => undefined),
  };
}
