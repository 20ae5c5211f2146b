/**
 * The 3bot's side of a restore (issue 16): the backup is fetched from the twin's hub, verified and
 * decrypted here, with the twin's key, and written into the disk of a deployment of the twin on a
 * node (`diskWrite`: the disk is emptied first, then each stored block is written; the node refuses
 * while a VM runs on the disk). The node never sees the key.
 *
 * @example
 * ```ts
 * await restoreNodeDisk({ node: nodeClient(bus, nodeTwin), contractId: 14, name: "data", hub, key, manifest });
 * ```
 */
import { BackupFormatError, forEachBackupBlock, readBackupManifest } from "@zgrid/flist";
import type { NodeClient } from "@zgrid/client";
import type { TwinKey } from "@zgrid/types";

export interface NodeDiskRestoreOptions {
  node: Pick<NodeClient, "diskWrite">;
  contractId: number;
  name: string;
  hub: string;
  key: Pick<TwinKey, "privateKey" | "address">;
  /** The backup's manifest id (the bot DB's last backup of the disk). */
  manifest: string;
  /** Per write, ms (default 30 s). */
  timeoutMs?: number;
}

/** Restores a backup into a node's disk; resolves to the backup's size and stored block count. */
export async function restoreNodeDisk(o: NodeDiskRestoreOptions): Promise<{ size: number; blocks: number }> {
  const root = await readBackupManifest({ hub: o.hub, key: o.key, manifest: o.manifest });
  const timeout = o.timeoutMs ?? 30_000;
  const target = { contract_id: o.contractId, name: o.name };
  const { size } = await o.node.diskWrite({ ...target, offset: 0, data: "", reset: true }, { timeout });
  if (root.size > size) throw new BackupFormatError(`the backup holds ${root.size} bytes, more than disk '${o.name}' (${size} bytes)`, { hint: "restore into a disk at least as large as the one backed up" });
  await forEachBackupBlock({ hub: o.hub, key: o.key, manifest: o.manifest, concurrency: 2 }, async (offset, bytes) => {
    await o.node.diskWrite({ ...target, offset, data: bytes.toString("base64") }, { timeout });
  }, root);
  return { size: root.size, blocks: root.blocks };
}
