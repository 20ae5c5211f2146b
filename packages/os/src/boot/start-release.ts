/**
 * The boot image's hand-over step: mount the release flist (signature checked against the release
 * keys of the kernel line before anything is mounted; every block verified on fetch and on every
 * cache hit, fetched lazily), read its entry through the mount (a tampered block stops the boot
 * here with the block's id), then run the entry with the boot parameters in its environment.
 *
 * A node release's entry (image/node-entry.sh) execs the upgrader (@zgrid/upgrader), which runs
 * zosd and follows the chain's approved release from then on.
 *
 * @example
 * ```ts
 * const r = await mountRelease({ params, cacheDir: "/run/zgrid/cache", mountpoint: "/run/zgrid/release" });
 * const code = await runEntry(r, { ZGRID_FARM: "1" }); // resolves with the entry's exit status
 * ```
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { mountFlist, readFlistMeta, type MountHandle } from "@zgrid/flist";
import { BaseError } from "@zgrid/types";
import { ReleaseError } from "./boot-errors.ts";
import type { BootParams } from "./boot-params.ts";

export interface MountedRelease {
  mount: MountHandle;
  /** Absolute path of the entry on the host (inside the mount). */
  entry: string;
  args: string[];
  env: Record<string, string>;
  dir: string;
  signer: string;
}

/** Mounts the release and checks its entry. Throws ReleaseError with the reason on any failure. */
export async function mountRelease(o: { params: BootParams; cacheDir: string; mountpoint: string; cacheBytes?: number }): Promise<MountedRelease> {
  let mount: MountHandle;
  try {
    mount = await mountFlist({
      flist: o.params.releaseUrl, mountpoint: o.mountpoint,
      cache: { dir: o.cacheDir, maxBytes: o.cacheBytes ?? 512 * 1024 ** 2 },
      stores: [`${o.params.hubUrl}/blocks`], requireSignature: true, trustedSigners: o.params.releaseKeys, timeoutSeconds: 300,
    });
  } catch (e) {
    const why = e instanceof BaseError ? `${e.code}: ${e.shortMessage}` : String(e);
    throw new ReleaseError(`release ${o.params.releaseUrl} refused: ${why}`, { hint: "the release is not signed by a key of zgrid.keys, or the hub is unreachable: check the kernel line and the hub" });
  }
  try {
    const meta = readFlistMeta(mount.flistPath);
    const startup = meta.startup;
    if (!startup?.name) throw new ReleaseError("the release flist has no entry (tag zgrid.entrypoint)", { hint: "build the release with an entrypoint" });
    const rel = normalize(`/${startup.name}`);
    const entry = join(o.mountpoint, rel);
    // Read the whole entry through the mount: every block is verified by the mount process.
    try {
      await readFile(entry);
    } catch (e) {
      const m = await mount.metrics().catch(() => undefined);
      const failures = m?.verifyFailures ?? 0;
      throw new ReleaseError(failures > 0
        ? `release block verification failed reading ${rel} (${failures} bad block(s)): the hub served content that does not match the signed release`
        : `cannot read the release entry ${rel}: ${(e as Error).message}`, { hint: "the hub's copy is damaged or tampered with; boot stops rather than run it" });
    }
    return { mount, entry, args: startup.args ?? [], env: startup.env ?? {}, dir: join(o.mountpoint, normalize(`/${startup.dir || "/"}`)), signer: String(meta.signer) };
  } catch (e) {
    await mount.unmount().catch(() => undefined);
    throw e;
  }
}

/** Runs the release's entry (stdio on the console) and resolves with its exit status. */
export function runEntry(r: MountedRelease, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(r.entry, r.args, { stdio: "inherit", cwd: r.dir, env: { ...process.env, ...r.env, ...env } });
    child.once("error", (e) => {
      process.stdout.write(`zgrid-boot: cannot start the release entry: ${e.message}\n`);
      resolve(127);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
