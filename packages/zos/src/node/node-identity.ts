/**
 * The node's identity: a 32-byte seed created on first start in the data dir (mode 0600) and the
 * node twin key derived from it (keccak-256 of the seed as the secp256k1 secret). The seed never
 * leaves the machine; losing it means registering a new node.
 *
 * @example
 * ```ts
 * const key = loadNodeIdentity("/var/lib/zos"); // same key on every start
 * key.address; // the node twin's chain account
 * ```
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BaseError, keccak256, twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";

export class NodeIdentityError extends BaseError {
  override readonly code: string = "NODE_IDENTITY";
}

export function seedPath(dataDir: string): string {
  return join(dataDir, "identity.seed");
}

export function loadNodeIdentity(dataDir: string): TwinKey {
  const path = seedPath(dataDir);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, randomBytes(32), { mode: 0o600 });
    renameSync(tmp, path);
  }
  const seed = readFileSync(path);
  if (seed.length !== 32) {
    throw new NodeIdentityError(`node seed ${path} is ${seed.length} bytes, expected 32`, { hint: "restore the seed from backup; deleting it makes this a new node" });
  }
  chmodSync(path, 0o600);
  return twinKeyFromPrivateKey(keccak256(seed));
}
