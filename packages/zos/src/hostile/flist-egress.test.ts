// Hostile tenant vs a live node (real chain, hub, zosd; one QEMU VM for zlogs): flist URLs on the
// node's loopback in several encodings, an flist whose /image.raw links to a host file, entrypoints
// climbing out of the image, an flist server that drips bytes forever (then the contract is
// cancelled), zlogs outputs that are not WebSocket or point at the loopback. Each is refused with
// its message, nothing on the host is read or connected to, and the node keeps answering another
// twin (zos.statistics.get < 2 s during the attack: a bound, not a benchmark).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startNodeFixture, type NodeFixture } from "../testing/node-fixture.ts";
import { publishFlist } from "../testing/zosd-process.ts";
import { cancelAndWait, deploy, deployment, getDeployment, network, resultOf, settled, statisticsLatency, vm, waitFor } from "./hostile-grid.ts";

const LATENCY_BOUND_MS = 2000;
let f: NodeFixture;
let probe: Server;
let probeHits = 0;
let drip: HttpServer;
let notWs: HttpServer;
let notWsHits = 0;
const intervals: NodeJS.Timeout[] = [];
const tmp = mkdtempSync(join(tmpdir(), "hostile-"));
async function assertResponsive(): Promise<void> {
  const worst = await statisticsLatency(f, f.stranger, 5);
  assert.ok(worst < LATENCY_BOUND_MS, `another twin waited ${Math.round(worst)} ms for zos.statistics.get`);
}
const port = (s: Server | HttpServer) => (s.address() as AddressInfo).port;
const listen = (s: Server | HttpServer) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r));

describe("a hostile tenant on a live node", { timeout: 900_000 }, () => {
  before(async () => {
    probe = createServer((s) => { probeHits++; s.destroy(); });
    drip = createHttpServer((_req, res) => { res.writeHead(200); intervals.push(setInterval(() => res.write("x"), 2000)); });
    notWs = createHttpServer((_req, res) => { notWsHits++; res.end("I am not a WebSocket\n"); });
    await Promise.all([listen(probe), listen(drip), listen(notWs)]);
    // the node may reach the drip and the not-WebSocket servers (stand-ins for hostile public hosts), never the probe
    f = await startNodeFixture({ entrypoint: "#!/bin/sh\nwhile true; do echo console-line; sleep 0.2; done\n", egressAllow: [`127.0.0.1:${port(drip)}`, `127.0.0.1:${port(notWs)}`] });
    await f.startNode();
    await statisticsLatency(f, f.stranger, 1); // the stranger's first request dials the node: not part of the bound
  });
  after(async () => {
    for (const i of intervals) clearInterval(i);
    drip?.closeAllConnections();
    for (const s of [probe, drip, notWs]) s?.close();
    await f?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("flist URLs on the node's loopback, in any encoding, are refused without a connection", async () => {
    const p = port(probe);
    const urls = [`http://127.0.0.1:${p}/a.fl`, `http://2130706433:${p}/a.fl`, `http://0x7f.1:${p}/a.fl`, `http://[::ffff:127.0.0.1]:${p}/a.fl`, `http://localhost:${p}/a.fl`];
    const d = await deploy(f, f.user, deployment(f.user.id, [network(1), ...urls.map((u, i) => vm(`v${i}`, u, `10.88.1.${10 + i}`))]));
    const got = await waitFor("refusals", () => getDeployment(f, f.user, d.contract_id), settled);
    for (const [i, u] of urls.entries()) {
      const r = resultOf(got, `v${i}`);
      assert.equal(r?.state, "error", u);
      assert.match(r?.message ?? "", /refused to connect to .*loopback address/, u);
    }
    assert.equal(probeHits, 0, "nothing connected to the loopback service");
    await assertResponsive();
    await cancelAndWait(f, f.user, d.contract_id);
  });

  test("/image.raw linking to a host file and entrypoints climbing out are refused alike, no VM starts", async () => {
    const root = join(tmp, "evil-root");
    mkdirSync(root, { recursive: true });
    symlinkSync("/etc/shadow", join(root, "image.raw"));
    const evil = await publishFlist({ root, tmp, name: "evil", hub: f.hub, key: f.user.key });
    const d = await deploy(f, f.user, deployment(f.user.id, [
      network(2),
      vm("image", evil.url, "10.88.2.10"),
      vm("shadow", f.flistUrl, "10.88.2.11", "/../../../etc/shadow"),
      vm("absent", f.flistUrl, "10.88.2.12", "/../../../etc/zgrid-no-such-file"),
      vm("inside", f.flistUrl, "10.88.2.13", "/etc/shadow"),
    ]));
    const got = await waitFor("refusals", () => getDeployment(f, f.user, d.contract_id), settled, 180_000);
    assert.equal(resultOf(got, "image")?.state, "error");
    assert.match(resultOf(got, "image")?.message ?? "", /\/image\.raw in the flist is a symbolic link, not a regular file/);
    const msg = (n: string) => (resultOf(got, n)?.message ?? "").replace(/\/\.\.\/\.\.\/\.\.\/etc\/\S+/, "<path>");
    assert.match(msg("shadow"), /leaves the flist's root/);
    assert.equal(msg("shadow"), msg("absent"), "the error does not tell whether the host path exists");
    assert.match(resultOf(got, "inside")?.message ?? "", /entrypoint \/etc\/shadow is not a file in the flist/, "resolved in the image, not on the host");
    const vms = await f.hypervisor.list();
    assert.deepEqual(vms.filter((id) => id.includes(`-${d.contract_id}-`)), [], "no VM was started");
    await assertResponsive();
    await cancelAndWait(f, f.user, d.contract_id);
  });

  test("an flist that drips forever holds only its own contract; cancelling it frees the node at once", async () => {
    const d = await deploy(f, f.user, deployment(f.user.id, [network(3), vm("slow", `http://127.0.0.1:${port(drip)}/slow.fl`, "10.88.3.10")]));
    await waitFor("the network", () => getDeployment(f, f.user, d.contract_id), (x) => resultOf(x, "net")?.state === "ok");
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(resultOf(await getDeployment(f, f.user, d.contract_id), "slow")?.state, "init", "still downloading");
    await assertResponsive();
    const t0 = Date.now();
    await cancelAndWait(f, f.user, d.contract_id, 30_000);
    assert.ok(Date.now() - t0 < 30_000);
    const files = readdirSync(join(f.node.dataDir, "mnt")).filter((x) => x.includes(`-${d.contract_id}-`));
    assert.deepEqual(files, [], "no partial flist left");
  });

  test("zlogs to a non-WebSocket server and to the loopback: the node stays up, the loopback is refused", async () => {
    const d = await deploy(f, f.user, deployment(f.user.id, [
      network(4),
      vm("vm", f.flistUrl, "10.88.4.10"),
      { version: 0, name: "logs_notws", type: "zlogs", data: { zmachine: "vm", output: `ws://127.0.0.1:${port(notWs)}/logs` } },
      { version: 0, name: "logs_lo", type: "zlogs", data: { zmachine: "vm", output: `redis://2130706433:${port(probe)}/pwned` } },
      { version: 0, name: "logs_lo6", type: "zlogs", data: { zmachine: "vm", output: `ws://[::ffff:127.0.0.1]:${port(probe)}/x` } },
    ]));
    const got = await waitFor("workloads", () => getDeployment(f, f.user, d.contract_id), settled, 180_000);
    assert.equal(resultOf(got, "vm")?.state, "ok", resultOf(got, "vm")?.message);
    assert.equal(resultOf(got, "logs_notws")?.state, "ok");
    for (const n of ["logs_lo", "logs_lo6"]) {
      assert.equal(resultOf(got, n)?.state, "error");
      assert.match(resultOf(got, n)?.message ?? "", /refused to connect to .*loopback address/);
    }
    await waitFor("the non-WebSocket server to be tried", async () => notWsHits, (n) => n >= 2, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const pid = f.nodePid();
    assert.ok(pid !== undefined && (() => { try { process.kill(pid, 0); return true; } catch { return false; } })(), "zosd is alive");
    assert.ok(notWsHits <= 6, `reconnects back off (${notWsHits} attempts)`);
    assert.equal(probeHits, 0);
    await assertResponsive();
    await cancelAndWait(f, f.user, d.contract_id);
  });
});
