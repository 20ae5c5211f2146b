/**
 * The one thing a stateless node keeps: its identity seed, on its own cache disk. Same file and
 * derivation as zosd (`<dataDir>/identity.seed`, 32 random bytes, secret = keccak-256(seed)), so
 * the node daemon started from the release finds the identity the boot image created: a reboot is
 * the same node, a wiped disk a new one.
 *
 * @example
 * ```ts
 * const id = loadOrCreateSeed("/var/cache/zgrid/zos");
 * id.address; // "0x…" — the node twin's account, printed on the console at every boot
 * id.created; // true on the first boot of this disk
 * ```
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { keccak256, twinKeyFromPrivateKey } from "@zgrid/types";
import { ReleaseError } from "./boot-errors.ts";

export function loadOrCreateSeed(dataDir: string): { address: `0x${string}`; created: boolean; path: string } {
  const path = join(dataDir, "identity.seed");
  let created = false;
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    writeSync(fd, randomBytes(32));
    fsyncSync(fd); // the disk is the node's only memory: make the seed durable before using it
    closeSync(fd);
    renameSync(tmp, path);
    created = true;
  }
  const seed = readFileSync(path);
  if (seed.length !== 32) {
    throw new ReleaseError(`node seed ${path} is ${seed.length} bytes, expected 32`, { hint: "the cache disk is damaged: wipe it to make this a new node, or restore the seed" });
  }
  chmodSync(path, 0o600);
  return { address: twinKeyFromPrivateKey(keccak256(seed)).address, created, path };
}
