// Time from `zgrid apply -f docker-compose.yml` to the first HTTP answer through the service's
// gateway (hub conversion of a registry image, contracts, network, VM boot, gateway), cold (image
// not converted yet) and warm (converted: cached by digest; project deleted in between), vs a bare
// QEMU boot of the same root to its entrypoint (bench/zos/bare-boot.ts). Runs a local grid of one
// node; VM-booting: run it under the VM lock.
//   flock /tmp/zgrid-vm.lock node bench/compose/run.ts
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry } from "../../packages/flist/src/testing/registry.ts";
import { buildBusyboxRoot } from "../../packages/zos/src/hypervisor/busybox-root.ts";
import { bareBoot } from "../zos/bare-boot.ts";

const ZGRID = new URL("../../packages/cli/bin/zgrid.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "zbench-compose-"));
const dataDir = join(dir, "grid");
const zgrid = (...args: string[]) => {
  const r = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "--json", ...args], { encoding: "utf8", env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  if (r.status !== 0) throw new Error(`zgrid ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};
const registry = await startRegistry(join(dir, "registry"));
try {
  const info = zgrid("up", "--nodes", "1") as { nodes: Array<{ nodeId: number; address: string }> };
  const root = join(dir, "bundle", "rootfs");
  run("umoci", ["init", "--layout", "img"]);
  run("umoci", ["new", "--image", "img:1"]);
  run("umoci", ["unpack", "--image", "img:1", "bundle"]);
  rmSync(root, { recursive: true });
  await buildBusyboxRoot(root, "#!/bin/sh\nexec sh\n");
  run("umoci", ["repack", "--image", "img:1", "bundle"]);
  run("umoci", ["config", "--image", "img:1", "--config.cmd", "/bin/sh", "--config.exposedports", "80/tcp"]);
  run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${join(dir, "img")}:1`, `docker://${registry.host}/bench/web:1`]);
  const cmd = "mkdir -p /www && echo BENCH-UP > /www/index.html && echo BENCH-UP && exec httpd -f -p 80 -h /www";
  const file = join(dir, "docker-compose.yml");
  writeFileSync(file, `name: zbench\nservices:\n  web:\n    image: ${registry.host}/bench/web:1\n    command: ["sh", "-c", ${JSON.stringify(cmd)}]\n    ports: ["80:80"]\n`);
  const node = info.nodes[0]!;
  const applyToHttp = async (): Promise<number> => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [ZGRID, "--data-dir", dataDir, "--json", "apply", "-f", file], { stdio: "ignore", env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const fqdn = `zbench-web.${String((zgridQuiet("nodes", "ls") as Array<{ domain?: string }>)[0]?.domain ?? "")}`;
    while (true) {
      const r = spawnSync("curl", ["-s", "-m", "2", "--resolve", `${fqdn}:80:${node.address}`, `http://${fqdn}/`], { encoding: "utf8" });
      if (r.stdout.includes("BENCH-UP")) break;
      if (performance.now() - t0 > 600_000) throw new Error("no answer in 10 min");
      await new Promise((res) => setTimeout(res, 200));
    }
    const ms = performance.now() - t0;
    await exited;
    return ms;
  };
  const cold = await applyToHttp();
  zgrid("delete", "-f", file);
  const warm = await applyToHttp();
  zgrid("delete", "-f", file);
  const bare = await bareBoot({ root, work: dir, entrypoint: ["/bin/sh", "-c", cmd], marker: "BENCH-UP" });
  console.log(`apply -f → first HTTP answer through the gateway: cold ${(cold / 1000).toFixed(1)} s (image converted), warm ${(warm / 1000).toFixed(1)} s (cached by digest)`);
  console.log(`bare QEMU boot of the same root to its entrypoint: ${(bare / 1000).toFixed(1)} s; ratio warm/bare ${(warm / bare).toFixed(1)}x, cold/bare ${(cold / bare).toFixed(1)}x`);
} finally {
  spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "down"], { stdio: "ignore" });
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}

function zgridQuiet(...args: string[]): unknown {
  const r = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "--json", ...args], { encoding: "utf8", env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  return JSON.parse(r.stdout || "[]");
}
