// Kubernetes on one TCG micro VM, booted exactly as zosd boots a container zmachine (zgrid guest
// kernel + initramfs, image root over 9p, data disk) by packages/k8s/scripts/try-image.sh, with QEMU
// user networking. Prints the create-to-Ready split from the bootstrap's `zk8s: [Ns]` console
// stamps (VM boot, binaries, containerd, certificates, API server, kubelet, pod network), then Node
// Ready and a pod Running (kubectl from the host through a forwarded port), the idle QEMU RSS, and
// the baseline: the same control plane (etcd + kube-apiserver) started natively on the host.
//   flock /tmp/zgrid-vm.lock node bench/k8s/single-node.ts     (holds the lock ≤ 9.5 min)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminKubeconfig } from "../../packages/k8s/src/cluster-pki.ts";
import { K8S_BIN, startControlPlane } from "../../packages/k8s/src/testing/control-plane.ts";

const LIMIT_MS = 570_000;
const here = new URL("../../packages/k8s/scripts/", import.meta.url).pathname;
const port = 16000 + Math.floor(Math.random() * 1000);

const t0 = performance.now();
const base = await startControlPlane();
const nativeMs = performance.now() - t0;
await base.stop();
console.log(`baseline: etcd + kube-apiserver natively on the host, start to /readyz: ${(nativeMs / 1000).toFixed(1)} s`);

const root = execFileSync("bash", [join(here, "build-image-root.sh")], { encoding: "utf8" }).trim().split("\n").pop()!;
const dir = mkdtempSync(join(tmpdir(), "zgrid-k8s-bench-"));
const kubectl = (...args: string[]) => execFileSync(join(K8S_BIN, "kubectl"), ["--kubeconfig", join(dir, "admin.conf"), "--request-timeout=10s", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
let qemuPid = 0;
try {
  const start = performance.now();
  execFileSync("bash", [join(here, "try-image.sh"), root, dir, "2048"], { env: { ...process.env, ZK8S_TRY_PORT: String(port) }, stdio: "ignore" });
  qemuPid = Number(readFileSync(join(dir, "qemu.pid"), "utf8"));
  const ca = { cert: readFileSync(join(dir, "ca.crt"), "utf8"), key: readFileSync(join(dir, "ca.key"), "utf8") };
  writeFileSync(join(dir, "admin.conf"), await adminKubeconfig(ca, `https://127.0.0.1:${port}`, "bench"));
  const since = () => ((performance.now() - start) / 1000).toFixed(1);
  const marks: Record<string, string> = {};
  let podMade = false;
  while (performance.now() - start < LIMIT_MS) {
    const con = readFileSync(join(dir, "console.log"), "latin1");
    if (!marks.boot && con.includes("zgrid-init: exec")) marks.boot = since();
    for (const m of con.matchAll(/zk8s: \[([\d.]+)s\] (.*)/g)) if (!marks[m[2]!]) marks[m[2]!] = `${m[1]} (bootstrap clock)`;
    if (con.includes("FATAL")) throw new Error(con.slice(con.indexOf("FATAL") - 200));
    if (!marks.ready) {
      try {
        if (/\bReady\b/.test(kubectl("get", "nodes", "--no-headers"))) marks.ready = since();
      } catch { /* API not up yet */ }
    }
    if (marks.ready && !podMade) {
      kubectl("run", "p1", "--image=zgrid.local/pause:3.4", "--image-pull-policy=Never", "--restart=Never");
      podMade = true;
    }
    if (podMade && !marks.pod) {
      try {
        if (kubectl("get", "pod", "p1", "-o", "jsonpath={.status.phase}") === "Running") marks.pod = since();
      } catch { /* not yet */ }
    }
    if (marks.pod) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.log("timeline (seconds since QEMU start unless noted):");
  for (const [k, v] of Object.entries(marks)) console.log(`  ${k.padEnd(40)} ${v}`);
  if (marks.pod) {
    await new Promise((r) => setTimeout(r, 20_000));
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${qemuPid}/status`, "utf8"))![1]) / 1024;
    console.log(`idle master (schedulable, 1 pod): QEMU RSS ${rss.toFixed(0)} MiB`);
    console.log(`ratio create-to-Ready (TCG VM) / native control-plane start: ${(Number(marks.ready) / (nativeMs / 1000)).toFixed(1)}x`);
  } else console.log(`not Ready within ${LIMIT_MS / 1000} s`);
} finally {
  if (qemuPid) try { process.kill(qemuPid, "SIGKILL"); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
}
