/**
 * `zgrid k8s create|ls|get|rm|kubeconfig|scale|image`: Kubernetes clusters on zmachines (@zgrid/k8s).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { ClusterInfo } from "@zgrid/k8s";
import { knownFlists, sdk, withGrid, type Ctx, type GlobalOptions } from "../context.ts";
import { table } from "../output.ts";
import { withInterrupt } from "../interrupt.ts";

const collect = (v: string, prev: string[]) => [...prev, v];
const k8s = () => import("@zgrid/k8s");

/** The Kubernetes flist: a URL, a local grid flist name, or (default) built and pushed to the local hub. */
export async function flistOf(opts: GlobalOptions, flist: string | undefined, binDir: string | undefined, progress: (m: string) => void): Promise<string> {
  if (flist && /^https?:\/\//.test(flist)) return flist;
  const known = await knownFlists(opts);
  if (flist && known[flist]) return known[flist];
  const { readLocalGrid, InputError } = await sdk();
  const { twinKeyFromPrivateKey } = await import("@zgrid/types");
  let info;
  try {
    info = readLocalGrid(opts.dataDir);
  } catch {
    throw new InputError("no Kubernetes flist given and no local grid to build one for", { hint: "pass --flist URL (a hub URL of a Kubernetes image), or start a local grid with `zgrid up`" });
  }
  const { ensureK8sFlist } = await k8s();
  return (await ensureK8sFlist({ hub: info.hubUrl, key: twinKeyFromPrivateKey(info.farmerKey), ...(binDir ? { binDir } : {}), onProgress: progress })).url;
}

function describe(c: ClusterInfo): string {
  const rows = [c.master, ...c.workers].map((v) => ({ vm: v.name, role: v === c.master ? "master" : "worker", state: v.state, node: v.nodeId, ip: v.ip, publicIp: v.publicIp }));
  return `cluster ${c.name}: API server ${c.apiServer} (network ${c.network})\n${table(rows, ["vm", "role", "state", "node", "ip", "publicIp"])}`;
}

export function registerK8sCommands(program: Command, ctx: Ctx): void {
  const cmd = program.command("k8s").description("Kubernetes clusters on zmachines (a master and workers on one private network)");

  cmd.command("create <name>").description("create a cluster: 1 master + N workers (rolls back every VM on failure or Ctrl-C)")
    .option("--masters <n>", "masters (only 1 is supported)", "1")
    .option("--workers <n>", "workers", "1")
    .option("--node <id>", "node of the master (default: the node finder picks)")
    .option("--nodes <ids>", "nodes of the workers, round robin (e.g. 1,2)")
    .option("--farm <id>", "only nodes of this farm")
    .option("--public-ip", "a public IPv4 on the master (API server on <ip>:6443)")
    .option("--schedulable-master", "the master runs pods too")
    .option("--registry <host:port>", "a registry reached over plain HTTP (repeatable)", collect, [])
    .option("--flist <url|name>", "the Kubernetes image (default: built from the cached binaries and pushed to the local hub)")
    .option("--bin <dir>", "build the image from these Kubernetes server binaries instead of the cached v1.20.2 build")
    .option("--master-memory <MiB>", "master memory", "2048").option("--worker-memory <MiB>", "worker memory", "1536")
    .option("--pv-size <MiB>", "a zgrid disk of this size on each worker, offered as a local PersistentVolume (storage class zgrid-local)", "0")
    .action(async (name: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const { opts, io } = ctx();
      const { InputError } = await sdk();
      if (String(o.masters) !== "1") throw new InputError(`--masters ${String(o.masters)}: only one master is supported`, { hint: "leave --masters out (an HA control plane with stacked etcd is not built yet)" });
      const flist = await flistOf(opts, o.flist as string | undefined, o.bin as string | undefined, io.progress);
      const { K8sService } = await k8s();
      await withGrid(opts, async (grid) => {
        const c = await withInterrupt(io, (signal) => new K8sService(grid).create({
          name, flist, workers: Number(o.workers), ...(o.node ? { node: Number(o.node) } : {}), nodes: o.nodes ? String(o.nodes).split(",").map(Number) : [],
          ...(o.farm ? { farm: Number(o.farm) } : {}), public_ip: Boolean(o.publicIp), schedulable_master: Boolean(o.schedulableMaster), registries: o.registry as string[],
          master: { memory: Number(o.masterMemory) }, worker: { memory: Number(o.workerMemory) }, pv_size: Number(o.pvSize),
        }, { signal, onProgress: io.progress }));
        io.result(c, () => describe(c));
      });
    });

  cmd.command("ls").description("list clusters").action(async () => {
    const { opts, io } = ctx();
    const { K8sService } = await k8s();
    await withGrid(opts, async (grid) => {
      const list = await new K8sService(grid).list();
      io.result(list, () => table(list.map((c) => ({ name: c.name, workers: c.workers.length, apiServer: c.apiServer, master: c.master.state, network: c.network })), ["name", "workers", "master", "apiServer", "network"]));
    });
  });

  cmd.command("get <name>").description("one cluster with its VMs").action(async (name: string) => {
    const { opts, io } = ctx();
    const { K8sService } = await k8s();
    await withGrid(opts, async (grid) => {
      const c = await new K8sService(grid).get(name);
      io.result(c, () => describe(c));
    });
  });

  cmd.command("kubeconfig <name>").description("an admin kubeconfig (TLS client certificate signed by the cluster's CA)")
    .option("-o, --output <file>", "write it to a file (mode 600) instead of stdout")
    .option("--server <url>", "API server URL to put in it (default: the master's public IP, else its private IP)")
    .action(async (name: string, o: { output?: string; server?: string }) => {
      const { opts, io } = ctx();
      const { K8sService } = await k8s();
      await withGrid(opts, async (grid) => {
        const text = await new K8sService(grid).kubeconfig(name, o.server ? { server: o.server } : {});
        if (o.output) {
          writeFileSync(o.output, text, { mode: 0o600 });
          io.result({ file: o.output }, () => `kubeconfig written to ${o.output}`);
        } else io.result({ kubeconfig: text }, () => text.trimEnd());
      });
    });

  cmd.command("scale <name>").description("grow or shrink the workers (a removed worker is drained and its Node deleted first)")
    .requiredOption("--workers <n>", "workers wanted")
    .option("--drop-volumes", "remove a worker even when its PersistentVolume is bound to a claim (its data is deleted)")
    .action(async (name: string, o: { workers: string; dropVolumes?: boolean }) => {
      const { opts, io } = ctx();
      const { K8sService, drainAndDeleteNode } = await k8s();
      await withGrid(opts, async (grid) => {
        const removeNode = (kubeconfig: string, node: string) => drainAndDeleteNode(kubeconfig, node, { dropVolume: Boolean(o.dropVolumes) });
        const c = await new K8sService(grid).scale(name, Number(o.workers), { removeNode, onProgress: io.progress });
        io.result(c, () => describe(c));
      });
    });

  cmd.command("lb <name>").description("run the LoadBalancer controller: Services of type LoadBalancer become zgrid gateways (Ctrl-C stops)")
    .option("--once", "one pass, then exit")
    .option("--server <url>", "API server URL (default: the master's public IP, else its private IP)")
    .action(async (name: string, o: { once?: boolean; server?: string }) => {
      const { opts, io } = ctx();
      const { K8sService, LoadBalancerController, ZgridLbProvider } = await k8s();
      await withGrid(opts, async (grid) => {
        const kubeconfig = await new K8sService(grid).kubeconfig(name, o.server ? { server: o.server } : {});
        const c = new LoadBalancerController({ kubeconfig, provider: new ZgridLbProvider(grid, name) });
        if (o.once) {
          const r = await c.reconcile();
          io.result(r, () => `ensured ${r.ensured.join(", ") || "none"}; removed ${r.removed.join(", ") || "none"}${r.failed.length ? `; failed ${r.failed.map((f) => `${f.key}: ${f.error}`).join("; ")}` : ""}`);
          return;
        }
        c.start();
        io.progress(`load balancer controller for ${name} running (Ctrl-C stops)`);
        await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
        await c.stop();
      });
    });

  cmd.command("rm <name>").description("remove the cluster: every VM, disk and its network").action(async (name: string) => {
    const { opts, io } = ctx();
    const { K8sService } = await k8s();
    await withGrid(opts, async (grid) => {
      const gone = await new K8sService(grid).delete(name, { onProgress: io.progress });
      io.result({ name, removed: gone }, () => `removed cluster ${name} (${gone.join(", ")})`);
    });
  });
}
