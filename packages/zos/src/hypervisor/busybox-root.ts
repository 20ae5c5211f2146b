/**
 * A minimal guest root filesystem: busybox-static, its applet links and `/start.sh` as the
 * entrypoint. The local grid publishes it as its demo flist (`zgrid up`); VM tests boot it too.
 *
 * @example
 * ```ts
 * await buildBusyboxRoot("/tmp/x/root", "#!/bin/sh\necho hi\nexec sleep 1000\n");
 * ```
 */
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A root filesystem with busybox-static, its applet links and `/start.sh` = `entrypoint`. */
export async function buildBusyboxRoot(dir: string, entrypoint: string): Promise<void> {
  for (const d of ["bin", "sbin", "etc", "root", "tmp", "proc", "sys", "dev", "data"]) await mkdir(join(dir, d), { recursive: true });
  await copyFile("/bin/busybox", join(dir, "bin/busybox"));
  await chmod(join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
  for (const a of applets) await symlink("busybox", join(dir, "bin", a)).catch(() => undefined);
  await writeFile(join(dir, "start.sh"), entrypoint, { mode: 0o755 });
}
