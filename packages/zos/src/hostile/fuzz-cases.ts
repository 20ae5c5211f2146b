/**
 * Cases of the deployment fuzz (deployment-fuzz.test.ts): mostly VALID deployments of cheap
 * workloads (disks, volumes, a network, zlogs, gateways, a zmachine whose flist never boots) with
 * targeted mutations that stay inside each field's valid domain but are hostile in value (loopback
 * in every encoding, climbing entrypoints, boundary ports and sizes, unicode, names colliding with
 * other tenants'), so most cases pass validation and reach the node's managers. A small share
 * comes from the invalid-mutation catalog and from random values at random JSON paths (refusals).
 *
 * @example
 * ```ts
 * const r = rng(42);
 * const { json, kind } = fuzzCase(7, r, 0); // kind: "targeted" | "catalog" | "random"
 * ```
 */
import { networkInterfaces } from "node:os";
import { DELETE, INVALID_MUTATIONS, jsonPaths, sampleDeploymentJson, setAt, type Json } from "@zgrid/types/testing";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The seeded PRNG cases are picked with (testing/seeded-random.ts). */
export { seededRandom as rng } from "../testing/seeded-random.ts";

const HOSTILE_VALUES: unknown[] = [
  -1, 0, 1, 2 ** 53, 1e308, -0, 0.5, "", "x".repeat(5000), "../../../etc/shadow", "/../../etc/passwd", "http://127.0.0.1:1/x.fl",
  "http://[::ffff:127.0.0.1]:8545/", "ws://2130706433:6379/", "redis://0x7f.1/x", "\u0000", "\u202e", "💥", null, true, [], {}, [1, 2, 3],
  { __proto__: { polluted: true } }, "10.0.0.0/8", "::1", 1023, 65536, "/my data", "a:b", "169.254.169.254:80",
];

/** Valid URLs that point where a tenant must never reach (the node refuses them when used). */
const HOSTILE_FLISTS = [
  "http://127.0.0.1:1/a.fl", "http://2130706433:8545/a.fl", "http://[::1]:22/a.fl", "http://[::ffff:127.0.0.1]:8545/a.fl", "http://0x7f.1/a.fl",
  "http://169.254.169.254/latest", "http://localhost:6379/a.fl", "http://0.0.0.0:80/a.fl", "http://[fe80::1]/a.fl", "http://224.0.0.1/a.fl",
  "http://10.66.1.1:80/a.fl", "https://flists.example.invalid/a.fl",
];
const HOSTILE_OUTPUTS = ["ws://127.0.0.1:9/x", "redis://2130706433:6379/p", "ws://[::ffff:127.0.0.1]:1/", "wss://logs.example.invalid/x", "redis://169.254.169.254:6379/k", "ws://0177.0.0.1:8545/"];
/** This machine's first non-internal IPv4 (the node's own underlay address: valid in form, refused by the node). */
const HOST_IP = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "192.0.2.77";
// Mostly valid in form (the node's own address, its bus/RPC ports, private and documentation
// ranges); one loopback form each, which validation refuses.
const HOSTILE_HTTP_BACKENDS = ["http://85.1.2.3:80", "http://10.66.1.5:80", `http://${HOST_IP}:8545`, `http://${HOST_IP}:22`, "https://192.0.2.1:443", "http://[2001:db8::1]:8080", "http://[::ffff:127.0.0.1]:8545"];
const HOSTILE_TLS_BACKENDS = ["85.1.2.3:443", "85.1.2.4:8443", `${HOST_IP}:443`, `${HOST_IP}:8545`, "[2001:db8::2]:443", "127.0.0.1:22"];
const ENTRYPOINTS = ["/start.sh", "/../../etc/shadow", "/etc/../../../root/.ssh/id_rsa", "/proc/self/environ", "", "/bin/sh", "/image.raw", "/dev/sda"];
const TEXTS = ["", "plain", "💥".repeat(50), "\u202eevil", "a\nb", "x".repeat(200), "{\"type\":\"vm\"}"];

const sampleKey = (sampleDeploymentJson().workloads as Json[])[0]!.data.wireguard_private_key as string;

export function cheapDeployment(twin: number, r: () => number, i: number): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const workloads: Json[] = [{ version: 0, name: "d0", type: "zmount", data: { size: (1 + Math.floor(r() * 32)) * MiB } }];
  const subnet = 1 + Math.floor(r() * 250);
  const kinds = ["volume", "network", "zlogs", "gw", "gwf", "vm", "zmount"];
  const net = () => ({ version: 0, name: "net", type: "network", data: { ip_range: "10.66.0.0/16", subnet: `10.66.${subnet}.0/24`, wireguard_private_key: sampleKey, wireguard_listen_port: 40000 + (i % 20000), peers: [] } });
  for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
    const kind = pick(kinds);
    const name = `${kind.replace(/[^a-z]/g, "")}${k}`;
    if (kind === "volume") workloads.push({ version: 0, name, type: "volume", data: { size: (1 + Math.floor(r() * 16)) * MiB } });
    if (kind === "zmount") workloads.push({ version: 0, name, type: "zmount", data: { size: MiB } });
    if (kind === "network" && !workloads.some((w) => w.type === "network")) workloads.push(net());
    if (kind === "gw") workloads.push({ version: 0, name, type: "gateway-name-proxy", data: { name: `n${i}x${k}`, tls_passthrough: false, backends: [pick(HOSTILE_HTTP_BACKENDS)] } });
    if (kind === "gwf") {
      const tls = r() < 0.5;
      workloads.push({ version: 0, name, type: "gateway-fqdn-proxy", data: { fqdn: `f${i}.example.org`, tls_passthrough: tls, backends: [pick(tls ? HOSTILE_TLS_BACKENDS : HOSTILE_HTTP_BACKENDS)] } });
    }
    if ((kind === "vm" || kind === "zlogs") && !workloads.some((w) => w.name === "vm0")) {
      if (!workloads.some((w) => w.type === "network")) workloads.push(net());
      workloads.push({ version: 0, name: "vm0", type: "zmachine", data: {
        flist: pick(HOSTILE_FLISTS), network: { interfaces: [{ network: "net", ip: `10.66.${subnet}.5` }] }, size: 0,
        compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: pick(ENTRYPOINTS), env: {},
      } });
    }
    if (kind === "zlogs") workloads.push({ version: 0, name, type: "zlogs", data: { zmachine: "vm0", output: pick(HOSTILE_OUTPUTS) } });
  }
  return { version: 0, twin_id: twin, contract_id: 0, metadata: `fuzz-${i}`, description: "", signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 }, workloads };
}

/** Mutations that keep a field in its valid domain (mostly) with a hostile value. */
const TARGETED: Array<(d: Json, r: () => number, pick: <T>(xs: readonly T[]) => T) => void> = [
  (d, r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "zmount" || w.type === "volume") w.data.size = pick([MiB, 4 * MiB, 100 * MiB, GiB, Math.floor(r() * 64) * MiB + MiB]); },
  (d, _r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "zmachine") w.data.flist = pick(HOSTILE_FLISTS); },
  (d, _r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "zmachine") w.data.entrypoint = pick(ENTRYPOINTS); },
  (d, r, pick) => {
    for (const w of d.workloads as Json[]) if (w.type === "zmachine") w.data.env = { [pick(["PATH", "LD_PRELOAD", "A".repeat(60), "ÜNI"])]: pick(TEXTS), N: String(Math.floor(r() * 1e9)) };
  },
  (d, r) => { for (const w of d.workloads as Json[]) if (w.type === "zmachine") w.data.compute_capacity = { cpu: 1 + Math.floor(r() * 4), memory: (256 + Math.floor(r() * 2) * 256) * MiB }; },
  (d, r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "network") w.data.wireguard_listen_port = pick([1024, 65535, 1024 + Math.floor(r() * 64511)]); },
  (d, _r, pick) => {
    for (const w of d.workloads as Json[]) {
      if (w.type === "network") w.data.peers = [{ subnet: "10.66.251.0/24", wireguard_public_key: sampleKey, allowed_ips: ["10.66.251.0/24"], endpoint: pick(["127.0.0.1:51820", "[::1]:6000", "169.254.1.1:6000", "192.0.2.10:6000"]) }];
    }
  },
  (d, _r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "zlogs") w.data.output = pick(HOSTILE_OUTPUTS); },
  (d, _r, pick) => {
    for (const w of d.workloads as Json[]) {
      if (w.type === "gateway-name-proxy" || w.type === "gateway-fqdn-proxy") w.data.backends = w.data.tls_passthrough ? [pick(HOSTILE_TLS_BACKENDS)] : [pick(HOSTILE_HTTP_BACKENDS), pick(HOSTILE_HTTP_BACKENDS)];
    }
  },
  (d, _r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "gateway-fqdn-proxy") w.data.fqdn = pick(["localhost.example.org", "xn--80ak6aa92e.com", "a.b.c.d.e.example.org", "gw.example.org"]); },
  (d, _r, pick) => { for (const w of d.workloads as Json[]) if (w.type === "gateway-name-proxy") w.data.name = pick(["admin", "www", "node", "a", "x".repeat(30)]); },
  (d, _r, pick) => {
    d.metadata = pick(TEXTS);
    d.description = pick(TEXTS);
    for (const w of d.workloads as Json[]) w.description = pick(TEXTS);
  },
  // A second network (per-twin quota, wireguard-go billing) or a second VM sharing the first's flist.
  (d, r) => {
    const net = (d.workloads as Json[]).find((w) => w.type === "network");
    if (net) (d.workloads as Json[]).push({ ...structuredClone(net), name: "net2", data: { ...structuredClone(net.data), subnet: net.data.subnet.replace(/^10\.66\.\d+/, `10.66.${251 + Math.floor(r() * 4)}`), wireguard_listen_port: 1024 + Math.floor(r() * 30000) } });
  },
];

export type FuzzKind = "targeted" | "catalog" | "random";

/** One fuzz case: 80 % targeted (valid, hostile values), 10 % the invalid catalog, 10 % random values at random paths. */
export function fuzzCase(twin: number, r: () => number, i: number): { json: Json; kind: FuzzKind } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const d = cheapDeployment(twin, r, i);
  const roll = r();
  if (roll < 0.1) {
    const m = pick(INVALID_MUTATIONS);
    const sample = sampleDeploymentJson({ twinId: twin }) as Json;
    try {
      m.mutate(sample);
    } catch { /* a mutation for a workload the sample lacks */ }
    return { json: sample, kind: "catalog" };
  }
  if (roll < 0.2) {
    const paths = jsonPaths(d).filter((p) => p.length > 0 && p[0] !== "twin_id");
    for (let n = 0; n < 1 + Math.floor(r() * 3); n++) {
      try {
        setAt(d, pick(paths), r() < 0.1 ? DELETE : pick(HOSTILE_VALUES));
      } catch { /* the path vanished with an earlier mutation */ }
    }
    return { json: d, kind: "random" };
  }
  for (let n = 0; n < 1 + Math.floor(r() * 3); n++) pick(TARGETED)(d, r, pick);
  return { json: d, kind: "targeted" };
}
