// bench/k8s, the cluster: runs the scenario (packages/cli/src/k8s.e2e.test.ts: 1 master + 2
// workers on two zgrid nodes of a local grid, real TCG VMs) and prints its figures:
//   - create-to-all-Ready, split: VMs deployed, API server answering, 3 Nodes Ready, and each VM's
//     bootstrap stamps (binaries, containerd, certificates, API server, kubelet, pod network)
//   - pod start latency (create -> Running, image present) vs the same container started on the
//     same worker's containerd without Kubernetes (`ctr run`): the baseline, measured in the same run
//   - the idle memory of the master and a worker (used, as their own kernels count it)
// Needs the VM lock for its whole run (about 50 min here):
//   flock /tmp/zgrid-vm.lock node bench/k8s/cluster-figures.ts
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const test = join(import.meta.dirname, "../../packages/cli/src/k8s.e2e.test.ts");
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", test], { encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ZGRID_E2E_K8S: "1" } });
const out = `${r.stdout}\n${r.stderr}`;
const saved = join(tmpdir(), `zgrid-k8s-cluster-bench-${Date.now()}.txt`);
writeFileSync(saved, out);
console.log(`the scenario's whole output: ${saved}`);
for (const l of out.split("\n")) if (/^\s*[✔✖] /.test(l) || (r.status !== 0 && /^\s+(error|Error|AssertionError|timed out)/.test(l))) console.log(l.slice(0, 3000));
const line = out.split("\n").find((l) => l.includes("K8S-FIGURES "));
if (!line) {
  process.stderr.write(out.slice(-20_000));
  throw new Error("the scenario printed no figures");
}
const f = JSON.parse(line.slice(line.indexOf("K8S-FIGURES ") + 12)) as Record<string, number>;
console.log(`bench/k8s cluster (scenario ${r.status === 0 ? "passed" : "FAILED"}); seconds from the start of the run unless said otherwise`);
for (const [k, v] of Object.entries(f)) console.log(`  ${k.padEnd(60)} ${v}`);
const ready = f["3 nodes Ready"];
const deployed = f["VMs deployed"];
if (ready !== undefined && deployed !== undefined) console.log(`create-to-all-Ready (1+2): ${ready - (f["local grid up, registry on the underlay"] ?? 0)} s (goal <= 180 s under TCG)`);
const pod = f["pod start (create -> Running), median s"];
const bare = f["bare containerd run (ctr), median s"];
if (pod !== undefined && bare !== undefined) console.log(`pod start ${pod.toFixed(1)} s vs bare containerd ${bare.toFixed(1)} s on the same worker: ${(pod / bare).toFixed(1)}x`);
process.exitCode = r.status === 0 ? 0 : 1;
