/**
 * zmount: a raw disk file (sparse, ext4-formatted on creation) that a zmachine attaches at a
 * mountpoint. Its data outlives VM restarts, daemon restarts and VM re-creation; it is deleted only
 * with the workload. Update grows it (shrinking would destroy data and is refused).
 *
 * @example
 * ```ts
 * const manager = zmountManager(nodePaths("/var/lib/zos"));
 * await manager.provision(ctx, workload); // { volume_id: "7-12-data", path: "/var/lib/zos/disks/7-12-data.img" }
 * ```
 */
import { readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { WorkloadOf } from "@zgrid/types";
import { ensureExt4Disk } from "../../hypervisor/disk.ts";
import { runHost } from "../../hypervisor/host-command.ts";
import type { WorkloadManager } from "../../engine/workload-manager.ts";
import type { NodePaths } from "../node-paths.ts";

import type { DiskResult } from "@zgrid/types";
export type { DiskResult };

/** zmount and volume share the disk lifecycle (see volume/volume-manager.ts for why). */
export type DiskWorkload = WorkloadOf<"zmount"> | WorkloadOf<"volume">;

export function diskManager(paths: NodePaths): WorkloadManager<DiskWorkload> {
  return {
    async provision(ctx, w) {
      const path = paths.disk(ctx.workloadId);
      await ensureExt4Disk(path, w.data.size);
      return { volume_id: ctx.workloadId, path, size: w.data.size } satisfies DiskResult;
    },
    async update(ctx, w, previous) {
      const path = paths.disk(ctx.workloadId);
      if (w.data.size < previous.data.size) {
        throw new Error(`cannot shrink disk '${w.name}' from ${previous.data.size} to ${w.data.size} bytes: data would be lost`);
      }
      if (w.data.size > previous.data.size) {
        const current = await stat(path).then((s) => s.size, () => 0);
        if (current === 0) await ensureExt4Disk(path, w.data.size);
        else {
          await runHost("truncate", ["-s", String(w.data.size), path]);
          await runHost("e2fsck", ["-fy", path], { timeoutMs: 120_000 }).catch(() => undefined);
          await runHost("resize2fs", [path], { timeoutMs: 120_000 });
        }
      }
      return { volume_id: ctx.workloadId, path, size: w.data.size } satisfies DiskResult;
    },
    async deprovision(ctx) {
      const path = paths.disk(ctx.workloadId);
      await rm(path, { force: true });
      // a disk being formatted when the daemon was killed (ensureExt4Disk's temp file)
      const dir = dirname(path);
      for (const f of await readdir(dir).catch(() => [])) if (f.startsWith(`${basename(path)}.new-`)) await rm(join(dir, f), { force: true });
    },
    async adopt(ctx) {
      return stat(paths.disk(ctx.workloadId)).then(() => true, () => false);
    },
  };
}
