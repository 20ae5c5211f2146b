// Fuzz against a live node: ≥ 500 randomly mutated deployments of cheap workloads (disks,
// volumes, networks, zlogs, gateways, zmachines from hostile flist URLs: no VM boots), each one
// that parses contracted on chain and signed by its twin, the rest sent raw. Every answer is an
// acceptance or a typed remote error with a message (never a timeout: 0 hangs); every accepted
// deployment settles (ok or error, nothing stuck in init) and is cancelled; zosd never dies and
// keeps answering. Seeded: the seed is printed (ZGRID_FUZZ_SEED=… to replay).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BusRemoteError } from "@zgrid/bus";
import { parseDeployment, deploymentHashHex, signDeployment, type Deployment } from "@zgrid/types";
import { DELETE, jsonPaths, setAt } from "@zgrid/types/testing";
import { INVALID_MUTATIONS, type Json } from "@zgrid/types/testing";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { startNodeFixture, type NodeFixture } from "../testing/node-fixture.ts";
import { getDeployment, statisticsLatency, waitFor } from "./hostile-grid.ts";

const COUNT = Number(process.env.ZGRID_FUZZ_COUNT ?? 500);
const SEED = Number(process.env.ZGRID_FUZZ_SEED ?? Date.now() % 2 ** 31);
const MiB = 1024 ** 2;

/** mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_VALUES: unknown[] = [
  -1, 0, 1, 2 ** 53, 1e308, -0, 0.5, "", "x".repeat(5000), "../../../etc/shadow", "/../../etc/passwd", "http://127.0.0.1:1/x.fl",
  "http://[::ffff:127.0.0.1]:8545/", "ws://2130706433:6379/", "redis://0x7f.1/x", "\u0000", "\u202e", "💥", null, true, [], {}, [1, 2, 3],
  { __proto__: { polluted: true } }, "10.0.0.0/8", "::1", 1023, 65536, "/my data", "a:b", "169.254.169.254:80",
];

function cheapDeployment(twin: number, r: () => number, i: number): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const workloads: Json[] = [{ version: 0, name: "d0", type: "zmount", data: { size: (1 + Math.floor(r() * 32)) * MiB } }];
  const subnet = 1 + Math.floor(r() * 250);
  const kinds = ["volume", "network", "zlogs", "gw", "gwf", "vm", "zmount"];
  for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
    const kind = pick(kinds);
    const name = `${kind.replace(/[^a-z]/g, "")}${k}`;
    if (kind === "volume") workloads.push({ version: 0, name, type: "volume", data: { size: (1 + Math.floor(r() * 16)) * MiB } });
    if (kind === "zmount") workloads.push({ version: 0, name, type: "zmount", data: { size: MiB } });
    if (kind === "network" && !workloads.some((w) => w.type === "network")) {
      workloads.push({ version: 0, name: "net", type: "network", data: { ip_range: "10.66.0.0/16", subnet: `10.66.${subnet}.0/24`, wireguard_private_key: sampleKey, wireguard_listen_port: 40000 + (i % 20000), peers: [] } });
    }
    if (kind === "zlogs") workloads.push({ version: 0, name, type: "zlogs", data: { zmachine: "vm0", output: pick(["ws://127.0.0.1:9/x", "redis://2130706433:6379/p", "ws://[::ffff:127.0.0.1]:1/", "wss://logs.example.invalid/x"]) } });
    if (kind === "gw") workloads.push({ version: 0, name, type: "gateway-name-proxy", data: { name: `n${i}x${k}`, tls_passthrough: false, backends: [pick(["http://85.1.2.3:80", "http://10.66.1.5:80"])] } });
    if (kind === "gwf") workloads.push({ version: 0, name, type: "gateway-fqdn-proxy", data: { fqdn: `f${i}.example.org`, tls_passthrough: r() < 0.5, backends: [pick(["85.1.2.3:443", "85.1.2.4:8443"])] } });
    if (kind === "vm" && !workloads.some((w) => w.name === "vm0")) {
      if (!workloads.some((w) => w.type === "network")) workloads.push({ version: 0, name: "net", type: "network", data: { ip_range: "10.66.0.0/16", subnet: `10.66.${subnet}.0/24`, wireguard_private_key: sampleKey, wireguard_listen_port: 40000 + (i % 20000), peers: [] } });
      workloads.push({ version: 0, name: "vm0", type: "zmachine", data: {
        flist: pick(["http://127.0.0.1:1/a.fl", "http://2130706433:8545/a.fl", "http://[::1]:22/a.fl", "file:///etc/shadow", "http://169.254.169.254/latest"]),
        network: { interfaces: [{ network: "net", ip: `10.66.${subnet}.5` }] }, size: 0, compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: pick(["/start.sh", "/../../etc/shadow", ""]), env: {},
      } });
    }
  }
  return { version: 0, twin_id: twin, contract_id: 0, metadata: `fuzz-${i}`, description: "", signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 }, workloads };
}

const sampleKey = (sampleDeploymentJson().workloads as Json[])[0]!.data.wireguard_private_key as string;

function mutate(d: Json, r: () => number): Json {
  const roll = r();
  if (roll < 0.3) {
    const m = INVALID_MUTATIONS[Math.floor(r() * INVALID_MUTATIONS.length)]!;
    const sample = sampleDeploymentJson({ twinId: d.twin_id as number }) as Json;
    try {
      m.mutate(sample);
    } catch { /* a mutation for a workload the sample lacks */ }
    return sample;
  }
  if (roll < 0.8) {
    const paths = jsonPaths(d).filter((p) => p.length > 0 && p[0] !== "twin_id");
    for (let n = 0; n < 1 + Math.floor(r() * 3); n++) {
      const p = paths[Math.floor(r() * paths.length)]!;
      try {
        setAt(d, p, r() < 0.1 ? DELETE : HOSTILE_VALUES[Math.floor(r() * HOSTILE_VALUES.length)]);
      } catch { /* the path vanished with an earlier mutation */ }
    }
  }
  return d; // else unmutated: a plain cheap deployment
}

let f: NodeFixture;

describe("deployment fuzz against a live node", { timeout: 3_600_000 }, () => {
  before(async () => {
    f = await startNodeFixture({ entrypoint: "#!/bin/sh\nexec sleep 100000\n" });
    await f.startNode();
    await statisticsLatency(f, f.stranger, 1);
  });
  after(async () => {
    await f?.stop();
  });

  test(`${COUNT} mutated deployments: 0 crashes, 0 hangs, typed refusals, clean outcomes`, async () => {
    console.log(`# deployment fuzz seed ${SEED} (replay: ZGRID_FUZZ_SEED=${SEED})`);
    const r = rng(SEED);
    const codes = new Map<string, number>();
    const accepted: number[] = [];
    let raw = 0;
    for (let i = 0; i < COUNT; i++) {
      const json = mutate(cheapDeployment(f.user.id, r, i), r);
      let payload: unknown = json;
      let d: Deployment | undefined;
      try {
        d = parseDeployment(structuredClone(json));
      } catch { /* refused locally: the node must refuse it too */ }
      if (d) {
        const contractId = await f.user.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: deploymentHashHex(d) });
        payload = signDeployment({ ...d, contract_id: contractId }, f.user.id, f.user.key);
      } else raw++;
      try {
        const ack = await f.user.bus.request<{ contract_id: number; accepted: boolean }>(f.node.twinId, "zos.deployment.deploy", payload, { timeout: 30_000 });
        assert.ok(d, `#${i}: the node accepted what the client could not parse (seed ${SEED})`);
        assert.equal(ack.accepted, true);
        accepted.push(ack.contract_id);
      } catch (e) {
        assert.ok(e instanceof BusRemoteError, `#${i}: expected a typed refusal, got ${String(e)} (seed ${SEED})`);
        assert.ok(e.code && e.code !== "INTERNAL" && e.message.length > 5, `#${i}: unclear refusal ${e.code}: ${e.message} (seed ${SEED})`);
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        if (d) await f.user.client.cancelContract((payload as Deployment).contract_id);
      }
      if (accepted.length > 0 && accepted.length % 8 === 0) await settleAndCancel(accepted.splice(0));
    }
    await settleAndCancel(accepted.splice(0));
    console.log(`# fuzz: ${COUNT} sent, ${raw} unparsable sent raw, refusals by code ${JSON.stringify(Object.fromEntries(codes))}`);
    const pid = f.nodePid();
    assert.ok(pid !== undefined && process.kill(pid, 0), "zosd never died");
    assert.ok(await statisticsLatency(f, f.stranger, 3) < 2000, "zosd still answers promptly");
  });
});

async function settleAndCancel(ids: number[]): Promise<void> {
  for (const id of ids) {
    const d = await waitFor(`contract ${id} to settle`, () => getDeployment(f, f.user, id), (x) => x.workloads.every((w) => w.result && w.result.state !== "init"), 120_000);
    for (const w of d.workloads) {
      assert.ok(w.result?.state === "ok" || w.result?.state === "error", `${id}/${w.name}: ${w.result?.state}`);
      if (w.result?.state === "error") assert.ok((w.result.message ?? "").length > 5, `${id}/${w.name}: an error says why`);
    }
    await f.user.client.cancelContract(id);
  }
  for (const id of ids) {
    await waitFor(`contract ${id} removed`, () => getDeployment(f, f.user, id), (x) => x.workloads.every((w) => w.result?.state === "deleted"), 120_000);
  }
}
