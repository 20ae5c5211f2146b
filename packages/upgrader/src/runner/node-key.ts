/**
 * The node's twin key, read from zosd's data dir: a 32-byte seed `identity.seed` (created by zosd
 * on its first start, mode 0600), the secp256k1 secret being keccak-256 of the seed (the format
 * of @zgrid/zos's node identity). The upgrader signs the node's version reports with it.
 *
 * @example
 * ```ts
 * const key = await waitForNodeKey("/var/lib/zos", 60_000); // key.address = the node twin's account
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { UpgraderConfigError } from "../errors.ts";

export function readNodeKey(dataDir: string): TwinKey | undefined {
  const path = join(dataDir, "identity.seed");
  if (!existsSync(path)) return undefined;
  const seed = readFileSync(path);
  if (seed.length !== 32) throw new UpgraderConfigError(`node seed ${path} is ${seed.length} bytes, expected 32`);
  return twinKeyFromPrivateKey(keccak256(seed));
}
