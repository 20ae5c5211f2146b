/**
 * Where the guest kernel + initramfs live (built by packages/zos/scripts/setup.sh) and the host
 * facts the kernel command line needs.
 *
 * @example
 * ```ts
 * const guest = findGuest();               // { dir, kernel, initrd, release }
 * const khz = hostTscKhz();                // e.g. 2596140, for tsc_early_khz=
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { GuestMissingError } from "./errors.ts";

export interface GuestArtifacts {
  dir: string;
  /** Uncompressed ELF vmlinux (booted via PVH). */
  kernel: string;
  /** Uncompressed newc initramfs with busybox, modules and /init. */
  initrd: string;
  /** Kernel release, e.g. 6.1.0-56-amd64. */
  release: string;
}

/** Default guest dir: $ZGRID_GUEST_DIR, else <repo>/.tools/guest. */
export function defaultGuestDir(): string {
  if (process.env.ZGRID_GUEST_DIR) return process.env.ZGRID_GUEST_DIR;
  return resolve(fileURLToPath(new URL("../../../../.tools/guest", import.meta.url)));
}

export function findGuest(dir: string = defaultGuestDir()): GuestArtifacts {
  const kernel = join(dir, "vmlinux");
  const initrd = join(dir, "initramfs.cpio");
  if (!existsSync(kernel) || !existsSync(initrd)) throw new GuestMissingError(dir);
  const release = existsSync(join(dir, "version")) ? readFileSync(join(dir, "version"), "utf8").trim() : "unknown";
  return { dir, kernel, initrd, release };
}

let tscCache: number | undefined;

/**
 * Host TSC frequency in kHz. Without `tsc_early_khz` about 1 in 10 microvm boots hang on TSC
 * calibration (no HPET); PLATFORM.md.
 */
export function hostTscKhz(): number {
  if (tscCache !== undefined) return tscCache;
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  tscCache = m ? Math.round(Number(m[1]) * 1000) : 2_000_000;
  return tscCache;
}
