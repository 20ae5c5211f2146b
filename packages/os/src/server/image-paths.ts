/**
 * Where the boot image lives and how to build it.
 *
 * @example
 * ```ts
 * ensureBootImage(); // runs packages/os/scripts/build-image.sh (quick when nothing changed)
 * bootImageDir();    // "<repo>/.tools/os" (or $ZGRID_OS_DIR)
 * ```
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BootServerError } from "./dnsmasq.ts";

const BUILD = fileURLToPath(new URL("../../scripts/build-image.sh", import.meta.url));

export function bootImageDir(): string {
  return process.env.ZGRID_OS_DIR ?? fileURLToPath(new URL("../../../../.tools/os", import.meta.url));
}

/** Builds the boot image when its inputs changed (a stamp makes an unchanged build quick). */
export function ensureBootImage(): string {
  const r = spawnSync("bash", [BUILD], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new BootServerError(`building the boot image failed (${BUILD} exited ${r.status})`, { hint: `run bash ${BUILD} and read its output` });
  return bootImageDir();
}
