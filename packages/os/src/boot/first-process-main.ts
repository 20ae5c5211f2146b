/**
 * Entry of the boot image's first Node process (bundled into the initramfs by
 * scripts/build-image.sh as /opt/zgrid/first-process.mjs; /init runs it).
 *
 * @example
 * ```sh
 * node /opt/zgrid/first-process.mjs /var/cache/zgrid /run/zgrid/release /run/zgrid/cache
 * ```
 */
import { readFileSync } from "node:fs";
import { firstProcess } from "./first-process.ts";

const [dataDir = "/var/cache/zgrid", mountpoint = "/run/zgrid/release", cacheDir = "/run/zgrid/cache", cmdlineFile = "/proc/cmdline"] = process.argv.slice(2);
process.exitCode = await firstProcess({ cmdline: readFileSync(cmdlineFile, "utf8"), dataDir, cacheDir, mountpoint });
