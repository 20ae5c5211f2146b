// Networks across nodes, measured in one run on the local grid (two node hosts on the underlay,
// real zosd processes, TCG micro VMs):
//  - VM A (node 1) -> VM B (node 2): ping latency and TCP throughput over the private WireGuard
//    network vs the same two VMs over the plain underlay (their public IPs, 1:1 NAT, no WireGuard);
//  - HTTP from the underlay to VM A's httpd: through the node's name gateway (HAProxy, private
//    backend) vs directly at the VM's public IP.
//   node bench/net/run.ts [mib=8] [requests=60]
import { request } from "node:http";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "../../packages/types/src/index.ts";
import { planNetwork } from "../../packages/types/src/index.ts";
import { startGridFixture, type GridFixture, type GridNode } from "../../packages/zos/src/underlay/grid-fixture.ts";

const mib = Number(process.argv[2] ?? 8);
const requests = Number(process.argv[3] ?? 60);
const MiB = 1024 ** 2;
const ENTRYPOINT = `#!/bin/sh
mkdir -p /www && echo "hello-from-$(hostname)" > /www/index.html
httpd -p 80 -h /www
for p in 5001 5002; do
  printf '#!/bin/sh\\ns=$(cut -d" " -f1 /proc/uptime); n=$(wc -c); e=$(cut -d" " -f1 /proc/uptime); echo "ZGRID-RECV port='"$p"' bytes=$n start=$s end=$e" >/dev/console\\n' > /sink$p.sh
  chmod +x /sink$p.sh
  nc -ll -p $p -e /sink$p.sh 2>&1 &
done
echo "ZGRID-READY $(hostname)"
if [ "$ROLE" = client ]; then
  until ping -c 1 -W 1 "$PRIV" >/dev/null 2>&1 && ping -c 1 -W 1 "$PUB" >/dev/null 2>&1; do sleep 1; done
  for round in 1 2 3; do
    for path in private public; do
      if [ $path = private ]; then t=$PRIV; p=5001; else t=$PUB; p=5002; fi
      echo "ZGRID-PING path=$path $(ping -c 10 -i 0.2 -q "$t" | tail -n 1)"
      dd if=/dev/zero bs=64k count=$((@MIB@ * 16)) 2>/dev/null | nc "$t" $p
      sleep 1
    done
  done
  echo "ZGRID-BENCH-DONE"
fi
exec sleep 100000
`;

let g: GridFixture | undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 240_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function deploy(node: GridNode, workloads: object[], metadata: string, publicIps: number): Promise<Deployment> {
  const u = g!.user;
  const d = parseDeployment({ version: 0, twin_id: u.id, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: u.id, required: true, weight: 1 }], weight_required: 1 },
    workloads: workloads.map((w) => ({ version: 0, ...w })) });
  const id = await u.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: deploymentHashHex(d), publicIps });
  const signed = signDeployment({ ...d, contract_id: id }, u.id, u.key);
  await u.bus.request(node.twinId, "zos.deployment.deploy", signed, { timeout: 20_000 });
  const done = await waitFor("deployment", () => u.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: id }, { timeout: 20_000 }),
    (x) => x.workloads.every((w) => w.result && w.result.state !== "init"));
  for (const w of done.workloads) if (w.result?.state !== "ok") throw new Error(`${w.name}: ${w.result?.message}`);
  return done;
}

function httpTime(host: string, hostHeader: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    request({ host, port: 80, headers: { host: hostHeader }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
    }).on("error", reject).end();
  });
}

try {
  g = await startGridFixture({ nodes: 2, entrypoint: ENTRYPOINT.replace("@MIB@", String(mib)), domain: "gw.bench", subnetOctet: 248 });
  g.trackNetwork(g.user.id, "net");
  const [a, b] = g.nodes as [GridNode, GridNode];
  const plan = planNetwork({ ipRange: "10.40.0.0/16", nodes: g.nodes.map((n) => ({ nodeId: n.nodeId, endpoint: n.host.address, listenPort: 51840 })) });
  const ip = (i: number) => plan.nodes[i]!.subnet.replace(/0\/24$/, "5");
  const vm = (name: string, priv: string, env: Record<string, string>) => ({ name, type: "zmachine", data: {
    flist: g!.flistUrl, network: { interfaces: [{ network: "net", ip: priv }], public_ip: "pub" }, size: 0,
    compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: "/start.sh", env } });
  await g.user.client.createNameContract("bench");
  const db = await deploy(b, [{ name: "net", type: "network", data: plan.nodes[1]!.workload }, { name: "pub", type: "ip", data: { v4: true } }, vm("vmb", ip(1), { ROLE: "server" })], "bench-b", 1);
  const pubB = (db.workloads.find((w) => w.name === "pub")!.result!.data as { ip: string }).ip.replace(/\/\d+$/, "");
  const da = await deploy(a, [{ name: "net", type: "network", data: plan.nodes[0]!.workload }, { name: "pub", type: "ip", data: { v4: true } },
    vm("vma", ip(0), { ROLE: "client", PRIV: ip(1), PUB: pubB }),
    { name: "gw", type: "gateway-name-proxy", data: { name: "bench", backends: [`http://${ip(0)}:80`], network: "net" } }], "bench-a", 1);
  const pubA = (da.workloads.find((w) => w.name === "pub")!.result!.data as { ip: string }).ip.replace(/\/\d+$/, "");
  const consoleOf = (d: Deployment, name: string) => (d.workloads.find((w) => w.name === name)!.result!.data as { console: string }).console;
  const { readFileSync } = await import("node:fs");
  const textA = await waitFor("the VM benchmark", async () => readFileSync(consoleOf(da, "vma"), "utf8"), (t) => t.includes("ZGRID-BENCH-DONE"), 300_000)
    .catch((e: Error) => { throw new Error(`${e.message}; VM A's console:\n${readFileSync(consoleOf(da, "vma"), "utf8").slice(-2000)}`); });
  const textB = readFileSync(consoleOf(db, "vmb"), "utf8");
  const pings = (path: string) => [...textA.matchAll(new RegExp(`ZGRID-PING path=${path} round-trip min/avg/max = [\\d.]+/([\\d.]+)/`, "g"))].map((m) => Number(m[1]));
  const mbps = (port: number) => [...textB.matchAll(new RegExp(`ZGRID-RECV port=${port} bytes=(\\d+) start=([\\d.]+) end=([\\d.]+)`, "g"))]
    .map((m) => (Number(m[1]) * 8) / 1e6 / Math.max(0.01, Number(m[3]) - Number(m[2])));

  if (mbps(5001).length === 0) throw new Error(`no transfer results in VM B's console:\n${textB.slice(-3000)}`);
  // gateway vs direct, from the underlay (alternating, new connection per request)
  await waitFor("gateway", () => httpTime(a.host.address, "bench.gw.bench"), () => true);
  const viaGw: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < requests; i++) {
    viaGw.push(await httpTime(a.host.address, "bench.gw.bench"));
    direct.push(await httpTime(pubA, "x"));
  }
  const row = (k: string, v: string) => console.log(`${k.padEnd(48)} ${v}`);
  const [pp, up] = [median(pings("private")), median(pings("public"))];
  const [pt, ut] = [median(mbps(5001)), median(mbps(5002))];
  console.log(`networks across nodes — 2 node hosts, TCG VMs (1 vCPU), ${mib} MiB per transfer, 3 rounds, medians`);
  row("VM A -> VM B ping, private WireGuard network", `${pp.toFixed(2)} ms`);
  row("VM A -> VM B ping, plain underlay (public IPs)", `${up.toFixed(2)} ms`);
  row("  latency ratio private/underlay", `${(pp / up).toFixed(2)}x`);
  row("VM A -> VM B TCP, private WireGuard network", `${pt.toFixed(1)} Mbit/s`);
  row("VM A -> VM B TCP, plain underlay (public IPs)", `${ut.toFixed(1)} Mbit/s`);
  row("  throughput ratio private/underlay", `${(pt / ut).toFixed(2)}x`);
  const [gm, dm] = [median(viaGw), median(direct)];
  row(`HTTP GET VM A via name gateway (n=${requests})`, `${gm.toFixed(2)} ms median`);
  row(`HTTP GET VM A direct at its public IP (n=${requests})`, `${dm.toFixed(2)} ms median`);
  row("  gateway overhead", `${(gm - dm).toFixed(2)} ms (${(gm / dm).toFixed(2)}x)`);
} finally {
  await g?.stop();
}
process.exit(0);
