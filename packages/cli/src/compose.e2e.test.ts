// A Docker Compose file brought unchanged to a local grid, as a user would: an image built here with
// umoci and pushed to a real registry (docker-registry), named in the compose file as
// `registry/name:tag`; `zgrid apply -f docker-compose.yml` converts it through the hub (once: the
// other services hit the digest cache) and brings up web (behind a gateway), app and db (a volume
// and a health check) in depends_on order; web answers through the gateway; an env change is an
// in-place update and db's data survives it; `zgrid delete -f` leaves no contract, VM or network.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { linkSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { ContractInfo, GatewayInfo, LocalGridInfo, VmInfo } from "@zgrid/client";
import { startRegistry, type Registry } from "@zgrid/flist/testing";
import { buildBusyboxRoot } from "@zgrid/zos/testing";
import { zgridRunner } from "./cli-e2e-helpers.ts";

const ZGRID = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));
let dir: string;
let dataDir: string;
let registry: Registry | undefined;
let info: LocalGridInfo;

const { zgrid, ok } = zgridRunner(() => dataDir);

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

async function waitFor(what: string, fn: () => string, good: (v: string) => boolean, timeoutMs = 90_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = fn();
  while (!good(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = fn();
  }
  return last;
}

const inNamespace = (vm: VmInfo, ...cmd: string[]) => spawnSync("ip", ["netns", "exec", vm.namespace, ...cmd], { encoding: "utf8" }).stdout;

/** One small image for all three services: busybox, Cmd /bin/sh, port 80 exposed; each service sets its command. */
async function buildImage(): Promise<string> {
  run("umoci", ["init", "--layout", "img"], dir);
  run("umoci", ["new", "--image", "img:1"], dir);
  run("umoci", ["unpack", "--image", "img:1", "bundle"], dir);
  rmSync(join(dir, "bundle/rootfs"), { recursive: true });
  await buildBusyboxRoot(join(dir, "bundle/rootfs"), "#!/bin/sh\nexec sh\n");
  linkSync(join(dir, "bundle/rootfs/bin/busybox"), join(dir, "bundle/rootfs/bin/bb-hardlink")); // a hard link in the layer
  run("umoci", ["repack", "--image", "img:1", "bundle"], dir);
  run("umoci", ["config", "--image", "img:1", "--config.cmd", "/bin/sh", "--config.exposedports", "80/tcp"], dir);
  run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${join(dir, "img")}:1`, `docker://${registry!.host}/zt/box:1`]);
  return `${registry!.host}/zt/box:1`;
}

const composeFile = (image: string, mode: string) => `
name: ztshop
services:
  web:
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo web-$$MODE > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment: { MODE: ${mode} }
    ports: ["80:80"]
    depends_on: [app]
  app:
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo app > /www/index.html && exec httpd -f -p 8000 -h /www"]
    depends_on:
      db: { condition: service_healthy }
  db:
    image: ${image}
    command: ["sh", "-c", "echo boot-$$MODE >> /data/boots && mkdir -p /www && cp /data/boots /www/index.html && exec httpd -f -p 5432 -h /www"]
    environment:
      - MODE=${mode}
    volumes: ["dbdata:/data"]
    healthcheck: { test: ["CMD-SHELL", "test -s /data/boots"], interval: 2s, timeout: 2s, retries: 3 }
    container_name: shop-db
volumes:
  dbdata: { x-zgrid: { size: 100M } }
`;

describe("docker compose on a local grid", { timeout: 600_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zgrid-compose-e2e-"));
    dataDir = join(dir, "grid");
    registry = await startRegistry(join(dir, "registry"));
  });
  after(async () => {
    spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let file: string;
  let image: string;
  test("up, and an image in a real registry", async () => {
    info = ok<LocalGridInfo>("up", "--nodes", "1");
    image = await buildImage();
    file = join(dir, "docker-compose.yml");
  });

  let vms: VmInfo[];
  let gw: GatewayInfo;
  test("apply -f docker-compose.yml: the image converted once through the hub, three VMs in depends_on order, web through its gateway", async () => {
    writeFileSync(file, composeFile(image, "one"));
    const r = zgrid("apply", "-f", file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = r.json as { plan: Array<{ action: string; kind: string; name: string }>; warnings: string[]; vms: VmInfo[]; gateways: GatewayInfo[] };
    assert.deepEqual(out.plan.filter((s) => s.kind === "vm").map((s) => `${s.action} ${s.name}`), ["create db", "create app", "create web"]);
    assert.ok(out.warnings.some((w) => /services\.db\.container_name: not supported by zgrid, ignored/.test(w)), out.warnings.join("\n"));
    assert.equal((r.stderr.match(/converting on the hub/g) ?? []).length, 1, "one image, converted once for three services");
    vms = out.vms;
    assert.deepEqual(vms.map((v) => [v.name, v.state]).sort(), [["app", "ok"], ["db", "ok"], ["web", "ok"]]);
    assert.ok(vms.every((v) => v.flist.includes("/box-1.fl")), "all run the converted image");
    gw = out.gateways[0]!;
    assert.equal(gw.name, "ztshop-web");
    const node = info.nodes.find((n) => n.nodeId === gw.nodeId)!;
    const page = await waitFor("web through the gateway", () => spawnSync("curl", ["-s", "-m", "3", "--resolve", `${gw.fqdn}:80:${node.address}`, `http://${gw.fqdn}/`], { encoding: "utf8" }).stdout, (s) => s.includes("web-one"));
    assert.equal(page.trim(), "web-one");
    const db = vms.find((v) => v.name === "db")!;
    assert.equal((await waitFor("db's data", () => inNamespace(db, "curl", "-s", "-m", "3", `http://${db.ip}:5432/`), (s) => s.includes("boot-one"))).trim(), "boot-one");
    // depends_on condition service_healthy: app waited for db's health check to pass
    assert.match(r.stderr, /vm 'app': waiting for 'db' \(service_healthy\)/);
    assert.match(r.stderr, /telling the project's VMs each other's names/);
  });

  test("health in the workload's result: vm get (and --json) and vm ls show db healthy", () => {
    const db = ok<VmInfo>("vm", "get", "db");
    assert.equal(db.health?.status, "healthy", JSON.stringify(db.health));
    assert.equal(db.health?.failing_streak, 0);
    assert.ok((db.health?.at ?? 0) > 0);
    assert.equal(ok<VmInfo[]>("vm", "ls").find((v) => v.name === "web")?.health, undefined, "web has no health check");
    const text = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "vm", "get", "db"], { encoding: "utf8", env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } }).stdout;
    assert.match(text, /health: healthy \(last check /);
  });

  test("the VMs resolve each other by service name; the image's hard link arrives as one inode; vm exec -i feeds stdin", () => {
    const exec = (vm: string, ...cmd: string[]) => {
      const r = zgrid("vm", "exec", vm, "--", ...cmd);
      const out = r.json as { exit_code: number; stdout: string; stderr: string } | undefined;
      assert.equal(out?.exit_code, 0, `${vm}: ${cmd.join(" ")}: ${r.stdout}${r.stderr}`);
      return out!.stdout;
    };
    // app was deployed after db (knows it at boot); db before app (told afterwards through the agent)
    assert.match(exec("app", "wget", "-qO-", "http://db:5432/"), /boot-one/);
    assert.equal(exec("db", "wget", "-qO-", "http://app:8000/").trim(), "app");
    const [a, b] = exec("web", "stat", "-c", "%i %h", "/bin/busybox", "/bin/bb-hardlink").trim().split("\n");
    assert.equal(a, b, "both names show one inode");
    assert.match(a!, / 2$/, "with a link count of 2");
    // vm exec -i: the command gets this process's stdin, then EOF
    const piped = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "vm", "exec", "web", "-i", "--", "wc", "-c"], { input: "x".repeat(1000), encoding: "utf8", env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout.trim(), "1000");
  });

  test("an env change is an in-place update: db keeps its volume's data, web serves the new value, the image is not converted again", async () => {
    writeFileSync(file, composeFile(image, "two"));
    const r = zgrid("apply", "-f", file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = r.json as { plan: Array<{ action: string; kind: string; name: string; dataLoss?: string[] }>; vms: VmInfo[] };
    assert.deepEqual(out.plan.map((s) => `${s.action} ${s.kind} ${s.name}`).sort(), ["keep gateway ztshop-web", "keep vm app", "update vm db", "update vm web"]);
    assert.ok(out.plan.every((s) => !s.dataLoss));
    assert.match(r.stderr, /already converted/);
    const db = out.vms.find((v) => v.name === "db")!;
    assert.equal(db.contractId, vms.find((v) => v.name === "db")!.contractId, "same contract");
    assert.equal((await waitFor("db restarted", () => inNamespace(db, "curl", "-s", "-m", "3", `http://${db.ip}:5432/`), (s) => s.includes("boot-two"))).trim(), "boot-one\nboot-two");
    const node = info.nodes.find((n) => n.nodeId === gw.nodeId)!;
    await waitFor("web-two through the gateway", () => spawnSync("curl", ["-s", "-m", "3", "--resolve", `${gw.fqdn}:80:${node.address}`, `http://${gw.fqdn}/`], { encoding: "utf8" }).stdout, (s) => s.includes("web-two"));
  });

  test("a change that needs a new VM for db (another network) would lose its volume: refused, nothing changed", () => {
    writeFileSync(file, composeFile(image, "two").replace("    volumes: [\"dbdata:/data\"]", "    volumes: [\"dbdata:/data\"]\n    networks: [back]") + "networks:\n  back: {}\n");
    const r = zgrid("apply", "-f", file);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const e = (r.json as { error: { code: string; message: string; hint: string } }).error;
    assert.equal(e.code, "DATA_LOSS");
    assert.match(e.message, /replace vm 'db' destroys disk\(s\) dbdata \(network ztshop_default → ztshop_back\)/);
    assert.match(e.hint, /--allow-data-loss/);
    assert.equal(ok<VmInfo[]>("vm", "ls").find((v) => v.name === "db")?.contractId, vms.find((v) => v.name === "db")!.contractId);
    writeFileSync(file, composeFile(image, "two"));
  });

  test("delete -f leaves no contract, VM, gateway or network", async () => {
    ok("delete", "-f", file);
    assert.deepEqual(ok<ContractInfo[]>("contracts", "ls"), []);
    assert.deepEqual(ok<VmInfo[]>("vm", "ls"), []);
    assert.deepEqual(ok<unknown[]>("network", "ls"), []);
    assert.deepEqual(ok<unknown[]>("gw", "ls"), []);
    await waitFor("the network namespace removed", () => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout, (s) => !s.includes(vms[0]!.namespace), 60_000);
  });
});
