// Quick start command 1: start the local grid (`zgrid up --debian`: dev chain, flist hub, two node
// daemons, a funded twin, signed busybox and Debian 12 flists — debootstrap runs once per data dir,
// about 1–2 minutes), deploy a Debian VM with an SSH key, log in over SSH from the host and print
// how to reach it. Leaves the grid up; `zgrid down` stops everything.
//   node scripts/demo.ts [--data-dir DIR]
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
let key = [join(homedir(), ".ssh/id_ed25519"), join(homedir(), ".ssh/id_rsa")].find((p) => existsSync(p) && existsSync(`${p}.pub`));
if (!key) {
  mkdirSync(join(dataDir, "ssh"), { recursive: true });
  key = join(dataDir, "ssh", "id_ed25519");
  if (!existsSync(key)) spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key, "-C", "zgrid-demo"], { stdio: "inherit" });
}
const pub = `${key}.pub`;

zgrid("up", "--debian");
zgrid("nodes", "ls");
const existing = JSON.parse(spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, "--json", "vm", "ls"], { encoding: "utf8" }).stdout) as Array<{ name: string }>;
if (existing.some((v) => v.name === "demo")) zgrid("vm", "rm", "demo");
const info = JSON.parse(spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, "--json", "status"], { encoding: "utf8" }).stdout) as { underlay?: unknown };
// node hosts on an underlay (the default) can give the VM a public IP: SSH straight from this host
const publicIp = info.underlay !== undefined;
zgrid("vm", "deploy", "demo", "--flist", "debian", "--memory", "512", "--ssh-key", pub, "--env", "GREETING=hello", ...(publicIp ? ["--public-ip"] : []));
const vm = JSON.parse(spawnSync(process.execPath, [zgridBin, "--data-dir", dataDir, "--json", "vm", "get", "demo"], { encoding: "utf8" }).stdout) as { ip: string; publicIp: string; namespace: string };
zgrid("vm", "ls");

const target = vm.publicIp ? vm.publicIp.split("/")[0]! : vm.ip;
const via = vm.publicIp ? [] : ["ip", "netns", "exec", vm.namespace];
const ssh = [...via, "ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", `root@${target}`];
const remote = "head -1 /etc/os-release; uname -r; hostname";
process.stdout.write(`\n$ ${ssh.join(" ")} '${remote}'\n`);
let answer = "";
for (let i = 0; i < 40 && !answer; i++) {
  answer = spawnSync(ssh[0]!, [...ssh.slice(1), remote], { encoding: "utf8" }).stdout;
  if (!answer) spawnSync("sleep", ["1"]);
}
process.stdout.write(answer || "(sshd not answering yet: see `zgrid vm console demo`)\n");
zgrid("contracts", "ls");
process.stdout.write(`
A Debian 12 VM runs on the local grid with your key (${pub}). Reach it from this host:
  ${[...via, "ssh", "-i", key, `root@${target}`].join(" ")}
  zgrid --data-dir ${dataDir} vm get demo                # its private IP, and how to reach that
  zgrid --data-dir ${dataDir} vm console demo            # its console
(the zgrid command is node ${zgridBin} — or alias zgrid="node ${zgridBin}")
Next: zgrid vm ls · zgrid apply -f spec.yaml · zgrid vm rm demo · zgrid down
`);
