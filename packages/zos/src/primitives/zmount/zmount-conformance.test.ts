// zmount (and volume: the same disk lifecycle) against the manager conformance suite, on real
// ext4 disk images: a daemon killed while formatting leaves ensureExt4Disk's temp file, which
// deprovision removes too.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { createLogger } from "@zgrid/log";
import { MiB, parseDeployment, type WorkloadOf } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { nodePaths } from "../node-paths.ts";
import { volumeManager } from "../volume/volume-manager.ts";
import { diskManager } from "./zmount-manager.ts";

const dir = mkdtempSync(join(tmpdir(), "zos-zmount-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const paths = nodePaths(dir);
const deployment = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };

for (const [type, manager] of [["zmount", diskManager(paths)], ["volume", volumeManager(paths)]] as const) {
  managerConformance(type, () => {
    const workloadId = `7-12-${type}`;
    const workload = { version: 0, name: type, type, metadata: "", description: "", data: { size: 16 * MiB } } as WorkloadOf<"zmount">;
    const disks = () => readdirSync(join(dir, "disks"), { withFileTypes: true }).map((e) => e.name).filter((n) => n.startsWith(workloadId));
    return {
      manager, workload,
      context: { deployment, workloadId, log: createLogger("test.zmount"), resultOf: () => undefined },
      halfProvision: async () => {
        writeFileSync(`${paths.disk(workloadId)}.new-4242`, ""); // killed between truncate and mkfs
      },
      footprint: () => { try { return disks(); } catch { return []; } },
    };
  });
}
