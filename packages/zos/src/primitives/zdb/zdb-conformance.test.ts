// The zdb manager against the manager conformance suite, for real: the namespace's data directory
// in the node's zdb service, the service's Unix socket for the twin's network and the `socat`
// forwarder inside that network's namespace (a real network namespace with the gateway address).
// A daemon killed between creating the namespace and starting its forwarder leaves the data
// only; a restarted daemon (a new ZdbService over the same directory) adopts the surviving
// forwarder. Needs root and the VM lock (it makes network namespaces):
//   flock /tmp/zgrid-vm.lock node --test packages/zos/src/primitives/zdb/zdb-conformance.test.ts
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import type { Deployment, WorkloadOf } from "@zgrid/types";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import { zdbManager } from "./zdb-manager.ts";
import { ZdbService } from "./zdb-service.ts";

const workload = { type: "zdb", name: "db", version: 0, metadata: "", description: "", data: { size: 1 << 20, mode: "user", password: "", public: false } } as unknown as WorkloadOf<"zdb">;

/** Whether `pid` runs (not a zombie left for its parent to reap). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

managerConformance("zdb", () => {
  const tag = randomBytes(3).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "zdb-conf-"));
  const data = join(dir, "data");
  const sockDir = join(dir, "sock");
  const netns = `zdbc-${tag}`;
  const gateway = "10.76.1.1";
  const made = (spawnSync("ip", ["netns", "add", netns]).status === 0) &&
    spawnSync("ip", ["netns", "exec", netns, "sh", "-ec", `ip link set lo up; ip link add v0 type veth peer name v1; ip addr add ${gateway}/24 dev v0; ip link set v0 up; ip link set v1 up`]).status === 0;
  assert.ok(made, `network namespace ${netns} could be made (root needed)`);
  const network: NetworkResult = { bridge: "", namespace: netns, gateway, subnet: "10.76.1.0/24", prefix: 24, ip_range: "", wireguard: "", listen_port: 0 };
  const context: WorkloadContext = { deployment: { twin_id: 7, contract_id: 12, workloads: [] } as unknown as Deployment, workloadId: "7-12-db", log: createLogger("test.zdb"), resultOf: () => undefined };
  // every service made (one per daemon "process"): each is stopped in cleanup
  const services: ZdbService[] = [];
  const daemon = (): WorkloadManager<WorkloadOf<"zdb">> => {
    const service = new ZdbService({ dir: data });
    services.push(service);
    return zdbManager({ service, sockDir, nodeEndpoints: [{ address: "192.0.2.10", port: 9900 }], networksOf: () => [{ name: "net", network }] });
  };
  const current = () => services[services.length - 1]!;
  return {
    manager: daemon(), workload, context,
    update: {
      workload: { ...workload, version: 1, data: { ...workload.data, size: 4 << 20, password: "s3cret" } },
      check: (result) => {
        assert.deepEqual(result, { namespace: "7-12-db", endpoints: [{ address: gateway, port: 9900, network: "net" }, { address: "192.0.2.10", port: 9900 }] });
        assert.equal(current().lookup("7-12-db")?.settings.size, 4 << 20, "the new size applies in place");
        assert.equal(current().lookup("7-12-db")?.settings.password, "s3cret");
      },
    },
    // the daemon dies (its listeners with it); the forwarder, detached, outlives it
    crash: () => current().stop(),
    restarted: daemon,
    halfProvision: async () => {
      // killed after the namespace was written, before its forwarder started
      current().ensureNamespace({ name: context.workloadId, owner: 7, mode: "user", size: 1 << 20, password: "", public: false });
      await current().stop();
      return daemon();
    },
    footprint: () => {
      const out: string[] = [];
      if (existsSync(join(data, context.workloadId))) out.push(`namespace ${context.workloadId}`);
      for (const f of existsSync(sockDir) ? readdirSync(sockDir).sort() : []) {
        if (!f.endsWith(".pid")) {
          out.push(`socket ${f}`);
          continue;
        }
        const pid = Number(readFileSync(join(sockDir, f), "utf8"));
        out.push(running(pid) ? `forwarder ${f} pid ${pid}` : `stale pidfile ${f}`);
      }
      return out;
    },
    cleanup: async () => {
      for (const s of services) await s.stop().catch(() => undefined);
      for (const f of existsSync(sockDir) ? readdirSync(sockDir) : []) {
        if (!f.endsWith(".pid")) continue;
        try {
          process.kill(-Number(readFileSync(join(sockDir, f), "utf8")), "SIGKILL");
        } catch {
          // gone
        }
      }
      spawnSync("ip", ["netns", "del", netns]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
