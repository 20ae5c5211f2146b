/**
 * A Debian 12 flist with an SSH server, built once per data dir with debootstrap (minbase +
 * openssh-server, a few minutes: Debian's mirror must be reachable), signed by the local farm and
 * pushed to the local hub. Cached: the tree in `<dataDir>/build/debian/root`, the flist URL in
 * `setup.json` and `grid.json` (`flists.debian`). Its entrypoint makes host keys and runs sshd.
 *
 * @example
 * ```ts
 * const url = await ensureDebianFlist({ dataDir, onProgress: console.error });
 * ```
 */
import { spawn } from "node:child_process";
import { existsSync, renameSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LocalGridError, readLocalGrid } from "@zgrid/client";
import { publishLocalFlist, servedFlist } from "./local-flist.ts";

export const DEBIAN_ENTRYPOINT = `#!/bin/sh
# zgrid: host keys on first boot, then sshd in the foreground (PID 1's child)
ssh-keygen -A >/dev/null 2>&1
mkdir -p /run/sshd
echo "ZGRID-READY $(hostname)"
exec /usr/sbin/sshd -D -e
`;

export async function ensureDebianFlist(o: { dataDir: string; mirror?: string; onProgress?: (m: string) => void }): Promise<string> {
  const progress = o.onProgress ?? (() => undefined);
  const cached = await servedFlist(readLocalGrid(o.dataDir).flists.debian);
  if (cached) return cached;
  const work = join(o.dataDir, "build", "debian");
  const root = join(work, "root");
  mkdirSync(work, { recursive: true });
  if (!existsSync(join(root, "usr/sbin/sshd"))) {
    rmSync(`${root}.tmp`, { recursive: true, force: true });
    progress("debootstrap: Debian 12 minbase + openssh-server (a few minutes, once per data dir)");
    const mirror = o.mirror ?? "http://deb.debian.org/debian";
    await run("debootstrap", ["--variant=minbase", "--include=openssh-server,iproute2,iputils-ping,curl,ca-certificates", "bookworm", `${root}.tmp`, mirror], join(work, "debootstrap.log"));
    rmSync(root, { recursive: true, force: true });
    renameSync(`${root}.tmp`, root);
  }
  writeFileSync(join(root, "start.sh"), DEBIAN_ENTRYPOINT);
  chmodSync(join(root, "start.sh"), 0o755);
  // apt caches are not part of the image
  rmSync(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(join(root, "var/cache/apt/archives/partial"), { recursive: true });
  progress("packing, signing and pushing the Debian flist");
  return publishLocalFlist({ dataDir: o.dataDir, name: "debian", root, work });
}

function run(cmd: string, args: string[], log: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => out.push(b));
    p.once("error", (e) => reject(new LocalGridError(`${cmd} cannot run: ${e.message}`, { hint: "install debootstrap (packages/cli/apt-packages.txt)" })));
    p.once("exit", (code) => {
      writeFileSync(log, Buffer.concat(out));
      if (code === 0) resolve();
      else reject(new LocalGridError(`${cmd} failed (exit ${code}); see ${log}`, { details: { log }, hint: "check that Debian's mirror is reachable, then run it again" }));
    });
  });
}
