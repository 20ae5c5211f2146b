/**
 * Restore writes (node API `diskWrite`, issue 16): the deployment's own twin writes bytes into one
 * of its zmount disks — a backup restored by its 3bot — only while no VM runs on the disk (never
 * under a running guest's filesystem). `reset` empties the disk first (holes, same size), so the
 * zero blocks a backup skips read back as zeros. Bounded: at most DISK_CHUNK_MAX bytes a write
 * (the schema), never past the disk's end, 4 writes in flight per twin. The node decrypts nothing:
 * it receives the plaintext its VM would read anyway, the twin keeps its backup key.
 *
 * @example
 * ```ts
 * const writes = diskWrites({ engine, hypervisor, paths });
 * await writes.write(7, { contract_id: 12, name: "data", offset: 0, data: "", reset: true });
 * await writes.write(7, { contract_id: 12, name: "data", offset: 524288, data: chunkBase64 });
 * ```
 */
import { open, stat } from "node:fs/promises";
import { BaseError, workloadId, type NodeApi } from "@zgrid/types";
import type { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { Hypervisor } from "../../hypervisor/hypervisor.ts";
import type { NodePaths } from "../node-paths.ts";
import { DiskNotHereError, SnapshotLimitError } from "./disk-snapshots.ts";

/** The disk's VM runs: writing under its filesystem would corrupt it. */
export class DiskInUseError extends BaseError {
  override readonly code: string = "DISK_IN_USE";
}

export interface DiskWriteDeps {
  engine: Pick<ProvisionEngine, "get">;
  hypervisor: Pick<Hypervisor, "status">;
  paths: Pick<NodePaths, "disk">;
  /** Writes in flight per twin (default 4). */
  writesPerTwin?: number;
}

export function diskWrites(deps: DiskWriteDeps) {
  const inFlight = new Map<number, number>();
  const max = deps.writesPerTwin ?? 4;
  return {
    async write(twin: number, r: NodeApi["diskWrite"]["request"]): Promise<{ written: number; size: number }> {
      const d = deps.engine.get(twin, r.contract_id);
      const w = d.workloads.find((x) => x.name === r.name && (x.type === "zmount" || x.type === "volume"));
      if (!w || w.result?.state === "deleted") throw new DiskNotHereError(`no disk '${r.name}' in contract ${r.contract_id}`, { details: { contract_id: r.contract_id, name: r.name } });
      if ((inFlight.get(twin) ?? 0) >= max) throw new SnapshotLimitError(`your twin has ${max} disk writes in flight on this node`, { hint: "write one chunk after the other (or a few at once)" });
      inFlight.set(twin, (inFlight.get(twin) ?? 0) + 1);
      try {
        const file = deps.paths.disk(workloadId(d.twin_id, d.contract_id, w.name));
        const st = await stat(file).catch(() => undefined);
        if (!st || !st.isFile()) throw new DiskNotHereError(`disk '${r.name}' of contract ${r.contract_id} is not provisioned on this node (yet)`, { details: { contract_id: r.contract_id, name: r.name } });
        const vm = d.workloads.find((x) => x.type === "zmachine" && x.data.mounts.some((m) => m.name === w.name));
        if (vm) {
          const state = await deps.hypervisor.status(workloadId(d.twin_id, d.contract_id, vm.name)).then((s) => s.state, () => "stopped");
          if (state === "running" || state === "paused") throw new DiskInUseError(`disk '${r.name}' is attached to VM '${vm.name}', which is ${state}`, { hint: `stop it first (\`zgrid vm stop ${vm.name}\`), write, then start it` });
        }
        const data = Buffer.from(r.data, "base64");
        if (r.offset + data.length > st.size) throw new SnapshotLimitError(`a write of ${data.length} bytes at ${r.offset} runs past the end of the disk (${st.size} bytes)`);
        const fh = await open(file, "r+");
        try {
          if (r.reset) {
            await fh.truncate(0);
            await fh.truncate(st.size);
          }
          if (data.length) await fh.write(data, 0, data.length, r.offset);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        return { written: data.length, size: st.size };
      } finally {
        inFlight.set(twin, (inFlight.get(twin) ?? 1) - 1);
      }
    },
  };
}

export type DiskWrites = ReturnType<typeof diskWrites>;
