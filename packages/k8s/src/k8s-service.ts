/**
 * Kubernetes clusters on zmachines: create, list, get, scale, kubeconfig, delete. A cluster is a
 * set of VMs (contract project `k8s-<name>`) on one private network, each booted from the
 * Kubernetes flist with only env as config (image/zgrid-k8s reads it): the master gets the CA and
 * the bootstrap token, workers the CA certificate, the token and the master's private IP. The
 * user's machine keeps nothing: the CA, token and sizes are read back from the master's deployment.
 *
 * @example
 * ```ts
 * const k8s = new K8sService(grid);
 * const c = await k8s.create({ name: "demo", flist, workers: 2, nodes: [1, 2], public_ip: true });
 * writeFileSync("kubeconfig", await k8s.kubeconfig("demo"));
 * await k8s.scale("demo", 3); await k8s.delete("demo");
 * ```
 */
import type { Deployment } from "@zgrid/types";
import { InputError, NotFoundError, nodeClient, type Grid, type ProgressFn, type VmInfo, type VmModelInput } from "@zgrid/client";
import { adminKubeconfig, bootstrapToken, makeClusterCa } from "./cluster-pki.ts";
import { clusterModelSchema, networkOf, nodeNameOf, projectOf, vmNameOf, type ClusterModel, type ClusterModelInput } from "./cluster-model.ts";
import { K8S_ENTRYPOINT } from "./k8s-flist.ts";

/** Where a worker's PersistentVolume disk is mounted (image/zgrid-k8s serves `<it>/data`). */
const PV_MOUNT = "/var/lib/zk8s-pv";

export interface ClusterInfo {
  name: string;
  master: VmInfo;
  workers: VmInfo[];
  /** https://<master public IP or private IP>:6443 */
  apiServer: string;
  network: string;
}

export interface K8sOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** Removes a Kubernetes node before its VM goes (drain + delete the Node object). */
export type NodeRemover = (kubeconfig: string, nodeName: string) => Promise<void>;

const b64 = (s: string) => Buffer.from(s).toString("base64");

export class K8sService {
  private readonly grid: Grid;
  constructor(grid: Grid) {
    this.grid = grid;
  }

  /** `spec`: a marker kept on the master's contract (a spec file's project owning the cluster: cluster-spec.ts). */
  async create(input: ClusterModelInput, o: K8sOptions & { spec?: string } = {}): Promise<ClusterInfo> {
    const parsed = clusterModelSchema.safeParse(input);
    if (!parsed.success) throw new InputError(`cluster: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { hint: "see `zgrid k8s create --help`" });
    const c = parsed.data;
    const progress = o.onProgress ?? (() => undefined);
    if ((await this.vmsOf(c.name)).length > 0) throw new InputError(`a cluster named '${c.name}' already exists`, { hint: `pick another name, or remove it with \`zgrid k8s rm ${c.name}\`` });
    progress("making the cluster CA and bootstrap token");
    const ca = await makeClusterCa(c.name);
    const token = bootstrapToken();
    const made: string[] = [];
    try {
      const master = await this.deployVm(c, "m", 1, {
        ZK8S_ROLE: "master", ZK8S_TOKEN: token, ZK8S_CA_CERT: b64(ca.cert), ZK8S_CA_KEY: b64(ca.key),
        ZK8S_NODE_NAME: nodeNameOf(c.name, "m", 1), ...(c.schedulable_master ? { ZK8S_SCHEDULABLE: "1" } : {}), ...this.commonEnv(c),
      }, o, o.spec);
      made.push(master.name);
      for (let i = 1; i <= c.workers; i++) {
        const w = await this.deployVm(c, "w", i, this.workerEnv(c, i, token, b64(ca.cert), master.ip), o);
        made.push(w.name);
      }
      return await this.get(c.name);
    } catch (e) {
      progress(`rolling back: removing ${made.join(", ") || "nothing"}`);
      for (const n of made.reverse()) await this.grid.vms.delete(n).catch(() => undefined);
      throw e;
    }
  }

  async list(): Promise<ClusterInfo[]> {
    const vms = await this.grid.vms.list();
    const names = [...new Set(vms.filter((v) => v.project?.startsWith("k8s-")).map((v) => v.project!.slice(4)))];
    return names.map((n) => this.describe(n, vms.filter((v) => v.project === projectOf(n)))).filter((c): c is ClusterInfo => c !== undefined);
  }

  async get(name: string): Promise<ClusterInfo> {
    const c = this.describe(name, await this.vmsOf(name));
    if (!c) throw new NotFoundError(`no Kubernetes cluster named '${name}'`, { details: { name }, hint: "list clusters with `zgrid k8s ls`" });
    return c;
  }

  /** An admin kubeconfig (group system:masters) for the cluster's API server, signed by its CA. */
  async kubeconfig(name: string, o: { server?: string } = {}): Promise<string> {
    const c = await this.get(name);
    const env = await this.masterEnv(c);
    const ca = { cert: Buffer.from(env.ZK8S_CA_CERT ?? "", "base64").toString(), key: Buffer.from(env.ZK8S_CA_KEY ?? "", "base64").toString() };
    return adminKubeconfig(ca, o.server ?? c.apiServer, name);
  }

  /**
   * Grows or shrinks the cluster to `workers`. New workers join with the bootstrap token; a worker
   * that goes is first drained and its Node deleted by `removeNode` (when given), then its VM removed.
   */
  async scale(name: string, workers: number, o: K8sOptions & { removeNode?: NodeRemover; flist?: string } = {}): Promise<ClusterInfo> {
    if (!Number.isInteger(workers) || workers < 0 || workers > 20) throw new InputError(`workers must be 0..20 (got ${workers})`);
    const c = await this.get(name);
    const env = await this.masterEnv(c);
    const model = clusterModelSchema.parse({
      name, flist: o.flist ?? c.master.flist, workers, network: c.network, ...(env.ZK8S_REGISTRIES ? { registries: env.ZK8S_REGISTRIES.split(" ") } : {}),
      worker: JSON.parse(env.ZK8S_WORKER_SIZE ?? "{}") as object, nodes: JSON.parse(env.ZK8S_WORKER_NODES ?? "[]") as number[], pv_size: Number(env.ZK8S_PV_MIB ?? 0),
    });
    const index = (v: VmInfo) => Number(/_w(\d+)$/.exec(v.name)?.[1] ?? 0);
    const have = [...c.workers].sort((a, b) => index(a) - index(b));
    for (const w of have.filter((v) => index(v) > workers).reverse()) {
      const nodeName = nodeNameOf(name, "w", index(w));
      if (o.removeNode) {
        o.onProgress?.(`draining and deleting node ${nodeName}`);
        await o.removeNode(await this.kubeconfig(name), nodeName);
      }
      o.onProgress?.(`removing VM ${w.name}`);
      await this.grid.vms.delete(w.name);
    }
    for (let i = 1; i <= workers; i++) {
      if (have.some((v) => index(v) === i)) continue;
      await this.deployVm(model, "w", i, this.workerEnv(model, i, env.ZK8S_TOKEN ?? "", env.ZK8S_CA_CERT ?? "", c.master.ip), o);
    }
    return this.get(name);
  }

  /** Removes the cluster's load balancer gateways, every VM (workers first), then its network. */
  async delete(name: string, o: K8sOptions = {}): Promise<string[]> {
    const c = await this.get(name);
    const gone: string[] = [];
    for (const g of (await this.grid.gateways.list()).filter((x) => x.project === projectOf(name))) {
      o.onProgress?.(`removing gateway ${g.name}`);
      await this.grid.gateways.delete(g.name);
      gone.push(g.name);
    }
    for (const v of [...c.workers, c.master]) {
      o.onProgress?.(`removing VM ${v.name}`);
      await this.grid.vms.delete(v.name);
      gone.push(v.name);
    }
    const users = (await this.grid.vms.list()).filter((v) => v.network === c.network).map((v) => v.name);
    if (users.length === 0) await this.grid.networks.delete(c.network);
    return gone;
  }

  private commonEnv(c: ClusterModel): Record<string, string> {
    return {
      ...(c.registries.length ? { ZK8S_REGISTRIES: c.registries.join(" ") } : {}),
      // kept on the master so that `scale` can repeat the choices without client state
      ZK8S_WORKER_SIZE: JSON.stringify(c.worker), ZK8S_WORKER_NODES: JSON.stringify(c.nodes),
      // workers label their Node with it; the master makes their PersistentVolumes
      ...(c.pv_size ? { ZK8S_PV_MIB: String(c.pv_size) } : {}),
    };
  }

  private workerEnv(c: ClusterModel, i: number, token: string, caCert: string, masterIp: string): Record<string, string> {
    return { ZK8S_ROLE: "worker", ZK8S_TOKEN: token, ZK8S_CA_CERT: caCert, ZK8S_MASTER: masterIp, ZK8S_NODE_NAME: nodeNameOf(c.name, "w", i), ...this.commonEnv(c) };
  }

  private async deployVm(c: ClusterModel, role: "m" | "w", i: number, env: Record<string, string>, o: K8sOptions, spec?: string): Promise<VmInfo> {
    const size = role === "m" ? c.master : c.worker;
    const name = vmNameOf(c.name, role, i);
    const node = role === "m" ? c.node : c.nodes.length ? c.nodes[(i - 1) % c.nodes.length] : undefined;
    const vm: VmModelInput = {
      name, flist: c.flist, cpu: size.cpu, memory: size.memory, env, entrypoint: K8S_ENTRYPOINT, network: networkOf(c),
      disks: [
        { name: `${name}_data`.slice(0, 36), size: size.disk, mountpoint: "/var/lib/zk8s" },
        ...(role === "w" && c.pv_size ? [{ name: `${name}_pv`.slice(0, 36), size: c.pv_size, mountpoint: PV_MOUNT }] : []),
      ],
      ...(node ? { node } : {}), ...(c.farm ? { farm: c.farm } : {}), ...(role === "m" && c.public_ip ? { public_ip: true } : {}), ...(c.ssh_key ? { ssh_key: c.ssh_key } : {}),
    };
    o.onProgress?.(`deploying ${role === "m" ? "master" : "worker"} ${name}`);
    return this.grid.vms.deploy(vm, { project: projectOf(c.name), ...(spec ? { spec } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  }

  private async vmsOf(name: string): Promise<VmInfo[]> {
    return (await this.grid.vms.list()).filter((v) => v.project === projectOf(name));
  }

  private describe(name: string, vms: VmInfo[]): ClusterInfo | undefined {
    const master = vms.find((v) => /_m\d+$/.test(v.name));
    if (!master) return undefined;
    const host = master.publicIp ? master.publicIp.split("/")[0]! : master.ip;
    return { name, master, workers: vms.filter((v) => /_w\d+$/.test(v.name)), apiServer: `https://${host}:6443`, network: master.network };
  }

  private async masterEnv(c: ClusterInfo): Promise<Record<string, string>> {
    const node = await this.grid.chain.getNode(c.master.nodeId);
    const d: Deployment = await nodeClient(await this.grid.bus(), node.twinId).get(c.master.contractId, { timeout: 10_000 });
    const w = d.workloads.find((x) => x.type === "zmachine" && x.name === c.master.name);
    const env = (w?.data as { env?: Record<string, string> } | undefined)?.env;
    if (!env?.ZK8S_CA_CERT || !env.ZK8S_CA_KEY || !env.ZK8S_TOKEN) throw new NotFoundError(`the master of '${c.name}' carries no cluster CA`, { hint: "was it made by `zgrid k8s create`?" });
    return env;
  }
}
