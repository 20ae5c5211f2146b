/**
 * A real Kubernetes control plane as plain host processes for tests that need only the API:
 * Debian's etcd and the cached kube-apiserver, certificates and kubeconfigs from kubeadm phases
 * (the same phases the image's bootstrap runs). No VM, no kernel state; everything in a temp dir
 * and gone after stop(). Ports are picked free.
 *
 * @example
 * ```ts
 * const cp = await startControlPlane();
 * cp.kubeconfig; // admin kubeconfig text
 * await cp.stop();
 * ```
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { freePort } from "@zgrid/types/free-port";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";

export const K8S_BIN = join(process.env.ZGRID_K8S_CACHE ?? "/var/cache/zgrid/kubernetes", "v1.20.2", "bin");
/** Why a control plane cannot start here ("" when it can). */
export function controlPlaneMissing(): string {
  if (!existsSync(join(K8S_BIN, "kube-apiserver"))) return `no Kubernetes binaries in ${K8S_BIN} (bash packages/k8s/scripts/build-kubernetes.sh)`;
  if (!existsSync("/usr/bin/etcd")) return "no etcd (apt-get install etcd-server)";
  return "";
}

export interface ControlPlane {
  kubeconfig: string;
  server: string;
  stop(): Promise<void>;
}

/** A core/v1 client of the control plane (the admin kubeconfig). */
export function coreApiOf(cp: ControlPlane): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(cp.kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}


/** kubeadm wants a non-loopback advertise address: the first global IPv4 of the host. */
function hostIp(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  throw new Error("no non-loopback IPv4 address on this host");
}

export async function startControlPlane(): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-k8s-cp-"));
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once("exit", () => r())))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [api, etcdClient, etcdPeer] = [await freePort(), await freePort(), await freePort()];
    const ip = hostIp();
    const pki = join(dir, "pki");
    mkdirSync(pki);
    writeFileSync(join(dir, "kubeadm.yaml"), [
      "apiVersion: kubeadm.k8s.io/v1beta2", "kind: InitConfiguration", "localAPIEndpoint:", `  advertiseAddress: "${ip}"`, `  bindPort: ${api}`, "nodeRegistration:", "  name: test",
      "---", "apiVersion: kubeadm.k8s.io/v1beta2", "kind: ClusterConfiguration", 'kubernetesVersion: "v1.20.2"', `controlPlaneEndpoint: "${ip}:${api}"`, `certificatesDir: ${pki}`,
      "etcd:", "  external:", `    endpoints: ["http://127.0.0.1:${etcdClient}"]`, "apiServer:", '  certSANs: ["127.0.0.1"]', "",
    ].join("\n"));
    const kubeadm = (...args: string[]) => execFileSync(join(K8S_BIN, "kubeadm"), args, { stdio: "pipe", timeout: 120_000 });
    kubeadm("init", "phase", "certs", "all", "--config", join(dir, "kubeadm.yaml"));
    kubeadm("init", "phase", "kubeconfig", "admin", "--config", join(dir, "kubeadm.yaml"), "--kubeconfig-dir", dir);
    const start = (cmd: string, args: string[], log: string) => {
      const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
      const chunks: Buffer[] = [];
      p.stderr!.on("data", (b: Buffer) => { chunks.push(b); if (chunks.length > 200) chunks.shift(); });
      p.once("exit", () => writeFileSync(join(dir, log), Buffer.concat(chunks)));
      procs.push(p);
      return p;
    };
    start("/usr/bin/etcd", ["--name", "t", "--data-dir", join(dir, "etcd"), "--listen-client-urls", `http://127.0.0.1:${etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${etcdClient}`,
      "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-cluster", `t=http://127.0.0.1:${etcdPeer}`], "etcd.log");
    start(join(K8S_BIN, "kube-apiserver"), [`--advertise-address=${ip}`, "--bind-address=127.0.0.1", `--secure-port=${api}`, `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--authorization-mode=Node,RBAC", `--client-ca-file=${pki}/ca.crt`, `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki}/sa.pub`, `--service-account-signing-key-file=${pki}/sa.key`, "--service-cluster-ip-range=10.96.0.0/12",
      `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`], "apiserver.log");
    const server = `https://127.0.0.1:${api}`;
    const kubeconfig = readFileSync(join(dir, "admin.conf"), "utf8").replace(/server: \S+/, `server: ${server}`);
    writeFileSync(join(dir, "admin.conf"), kubeconfig);
    const end = Date.now() + 120_000;
    for (;;) {
      try {
        if (execFileSync(join(K8S_BIN, "kubectl"), ["--kubeconfig", join(dir, "admin.conf"), "get", "--raw", "/readyz"], { stdio: "pipe", timeout: 10_000 }).toString() === "ok") break;
      } catch { /* not yet */ }
      if (Date.now() > end || procs.some((p) => p.exitCode !== null)) throw new Error(`the test control plane did not start (logs in ${dir})`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { kubeconfig, server, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
