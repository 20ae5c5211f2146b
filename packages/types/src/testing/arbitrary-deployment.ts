/**
 * fast-check arbitraries for property tests: valid deployments (the sample with every value
 * randomised within its rules, optional fields dropped, extra disks added) and random mutations.
 */
import fc from "fast-check";
import { minRootSize } from "../workloads/zmachine.ts";
import type { Json } from "./invalid-mutations.ts";
import { sampleDeploymentJson } from "./sample-deployment.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const name = fc.stringMatching(/^[a-zA-Z0-9_]{1,36}$/);

/** A valid deployment as wire JSON. */
export const validDeployment: fc.Arbitrary<Json> = fc
  .record({
    twin: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    version: fc.integer({ min: 0, max: 1000 }),
    metadata: fc.string({ maxLength: 200 }),
    cpu: fc.integer({ min: 1, max: 64 }),
    memMiB: fc.integer({ min: 250, max: 256 * 1024 }),
    rootExtraMiB: fc.option(fc.integer({ min: 0, max: 1024 * 1024 }), { nil: undefined }),
    diskMiB: fc.integer({ min: 1, max: 1024 * 1024 }),
    subnet: fc.integer({ min: 0, max: 255 }),
    host: fc.integer({ min: 2, max: 254 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/), fc.string({ maxLength: 50 }), { maxKeys: 5 }),
    extraDisks: fc.uniqueArray(name, { maxLength: 4 }),
    gwName: fc.stringMatching(/^[a-z0-9][a-z0-9_]{2,20}$/),
    dropDefaults: fc.boolean(),
    port: fc.integer({ min: 1024, max: 65535 }),
  })
  .map((r) => {
    const d = sampleDeploymentJson({ twinId: r.twin, version: r.version }) as Json;
    d.metadata = r.metadata;
    const byName = (n: string) => d.workloads.find((w: Json) => w.name === n);
    const vm = byName("vm").data;
    const memory = r.memMiB * MiB;
    vm.compute_capacity = { cpu: r.cpu, memory };
    vm.size = r.rootExtraMiB === undefined ? 0 : minRootSize(r.cpu, memory) + r.rootExtraMiB * MiB;
    vm.env = { ...vm.env, ...r.env };
    const net = byName("net").data;
    net.subnet = `10.20.${r.subnet}.0/24`;
    net.wireguard_listen_port = r.port;
    net.peers[0].subnet = `10.20.${(r.subnet + 1) % 256}.0/24`;
    vm.network.interfaces[0].ip = `10.20.${r.subnet}.${r.host}`;
    byName("gw").data.backends = [`http://10.20.${r.subnet}.${r.host}:80`];
    byName("gw").data.name = r.gwName;
    byName("data").data.size = r.diskMiB * MiB;
    for (const extra of r.extraDisks) {
      if (d.workloads.some((w: Json) => w.name === extra)) continue;
      d.workloads.push({ version: 0, name: extra, type: "zmount", data: { size: GiB } });
    }
    if (r.dropDefaults) {
      for (const w of d.workloads) {
        delete w.metadata;
        delete w.description;
      }
      delete d.contract_id;
      delete d.expiration;
      delete d.signature_requirement.signatures;
      delete vm.corex;
      delete vm.gpu;
    }
    return d;
  });

/** Every path (as key lists) to a value inside a JSON value. */
export function jsonPaths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...jsonPaths(x, [...prefix, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(...jsonPaths(x, [...prefix, k]));
  return out;
}

/** Sets (or deletes, when value is the DELETE marker) the value at a path, in place. */
export const DELETE = Symbol("delete");
export function setAt(root: Json, path: Array<string | number>, value: unknown): Json {
  if (path.length === 0) return value as Json;
  let cur: Json = root;
  for (const k of path.slice(0, -1)) cur = cur[k as string];
  const last = path[path.length - 1] as string;
  if (value === DELETE) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return root;
}
