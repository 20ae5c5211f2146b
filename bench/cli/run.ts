// bench/cli: how long a user waits. Times, through the real `zgrid` command on a fresh data dir:
//   - `zgrid up` from cold (new chain, farm, flist packed and pushed, node daemons registered)
//   - deploy-to-reachable: `zgrid vm deploy --public-ip` until the VM's web server answers on it
//   - `zgrid down`, then `zgrid up` again (warm: the chain journal replays) as the ratio's baseline
//   node bench/cli/run.ts [--nodes 2]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { nodes: { type: "string", default: "2" } } });
const bin = join(import.meta.dirname, "../../packages/cli/bin/zgrid.ts");
const dataDir = mkdtempSync(join(tmpdir(), "zgrid-bench-cli-"));
const zgrid = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, "--data-dir", dataDir, "--json", "-q", ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`zgrid ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const timed = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const v = fn();
  return [v, (performance.now() - t) / 1000];
};
try {
  const [, coldUp] = timed(() => zgrid("up", "--nodes", values.nodes!));
  // a public IP (node hosts on the underlay): reachable from this host as a user would reach it
  const [vm, deploy] = timed(() => zgrid("vm", "deploy", "bench", "--flist", "busybox", "--public-ip"));
  const address = String(vm.publicIp).split("/")[0]!;
  const [, reach] = timed(() => {
    for (let i = 0; i < 240; i++) {
      const out = spawnSync("curl", ["-s", "-m", "2", `http://${address}/`], { encoding: "utf8" }).stdout;
      if (out.includes("hello from bench")) return;
      spawnSync("sleep", ["0.25"]);
    }
    throw new Error("the VM never answered");
  });
  const [, ls] = timed(() => zgrid("vm", "ls"));
  const [, down] = timed(() => zgrid("down"));
  const [, warmUp] = timed(() => zgrid("up", "--nodes", values.nodes!));
  zgrid("down");
  const load = (await import("node:os")).loadavg()[0]!.toFixed(2);
  const rows = [
    ["zgrid up (cold)", coldUp], ["zgrid up (warm, after down)", warmUp], ["vm deploy (until ok)", deploy],
    ["deploy-to-reachable (HTTP answers)", deploy + reach], ["vm ls", ls], ["zgrid down (1 VM)", down],
  ] as const;
  for (const [name, s] of rows) process.stdout.write(`${name.padEnd(36)} ${s.toFixed(2)} s\n`);
  process.stdout.write(`ratio cold/warm up: ${(coldUp / warmUp).toFixed(2)}x; boot after 'ok' share of deploy-to-reachable: ${((reach / (deploy + reach)) * 100).toFixed(0)}%; load avg ${load}, ${values.nodes} nodes\n`);
} finally {
  spawnSync(process.execPath, [bin, "--data-dir", dataDir, "-q", "down"], { stdio: "ignore" });
  rmSync(dataDir, { recursive: true, force: true });
}
