// Quick start command 1: start the local grid (`zgrid up`: dev chain, flist hub, two node
// daemons, a funded twin, a signed busybox flist), deploy a VM with an SSH key, show it running
// and reach its web server from the host. Leaves the grid up; `zgrid down` stops everything.
//   node scripts/demo.ts [--data-dir DIR]
// The image is busybox (boots in seconds under TCG); a Debian flist (debootstrap) is not built
// by `zgrid up` yet, so the VM has the SSH key installed but no sshd: the demo reaches it over HTTP.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dirname, "..");
const zgridBin = join(root, "packages/cli/bin/zgrid.ts");
const { values } = parseArgs({ options: { "data-dir": { type: "string" } } });
const dataDir = values["data-dir"] ?? process.env.ZGRID_DATA_DIR ?? join(homedir(), ".zgrid", "local");
const zgrid = (...args: string[]) => {
  process.stdout.write(`\n$ zgrid ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, ...args], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  process.stdout.write(r.stdout);
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout;
};

// an SSH key for the VM: the user's own, else one made for the demo
let pub = [join(homedir(), ".ssh/id_ed25519.pub"), join(homedir(), ".ssh/id_rsa.pub")].find((p) => existsSync(p));
if (!pub) {
  mkdirSync(join(dataDir, "ssh"), { recursive: true });
  const key = join(dataDir, "ssh", "id_ed25519");
  if (!existsSync(key)) spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key, "-C", "zgrid-demo"], { stdio: "inherit" });
  pub = `${key}.pub`;
}

zgrid("up");
zgrid("nodes", "ls");
const existing = JSON.parse(spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, "--json", "vm", "ls"], { encoding: "utf8" }).stdout) as Array<{ name: string }>;
if (existing.some((v) => v.name === "demo")) zgrid("vm", "rm", "demo");
zgrid("vm", "deploy", "demo", "--flist", "busybox", "--memory", "256", "--ssh-key", pub, "--env", "GREETING=hello");
const vm = JSON.parse(spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, "--json", "vm", "get", "demo"], { encoding: "utf8" }).stdout) as { ip: string; namespace: string };
zgrid("vm", "ls");

process.stdout.write(`\n$ ip netns exec ${vm.namespace} curl http://${vm.ip}/\n`);
let page = "";
for (let i = 0; i < 60 && !page.includes("hello from"); i++) {
  page = spawnSync("ip", ["netns", "exec", vm.namespace, "curl", "-s", "-m", "2", `http://${vm.ip}/`], { encoding: "utf8" }).stdout;
  if (!page) spawnSync("sleep", ["0.5"]);
}
process.stdout.write(page || "(no answer yet: see `zgrid vm console demo`)\n");
zgrid("contracts", "ls");
process.stdout.write(`
The VM runs on the local grid. Reach it from this host:
  ip netns exec ${vm.namespace} curl http://${vm.ip}/        # its web server
  ip netns exec ${vm.namespace} ping ${vm.ip}
  zgrid --data-dir ${dataDir} vm console demo                  # its console
Your SSH key (${pub}) is in the VM's /root/.ssh/authorized_keys; busybox has no sshd, so SSH
needs an image with one (e.g. a Debian flist: zgrid flist convert docker.io/library/debian …).
Next: zgrid vm ls · zgrid apply -f spec.yaml · zgrid vm rm demo · zgrid down
(the zgrid command: node ${zgridBin}, or add packages/cli/bin to PATH)
`);
