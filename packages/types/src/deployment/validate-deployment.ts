/**
 * Rules that span workloads and the signature requirement: unique names, references between
 * workloads (network, disks, public IP, zlogs target), IP plan consistency, signer set sanity.
 */
import type { ValidationIssue } from "../errors/validation-error.ts";
import { cidrContains, parseNetwork } from "../net/ip.ts";
import type { Deployment, Workload, WorkloadOf } from "./deployment.ts";
import type { ValidationContext } from "./parse-deployment.ts";

export function validateCrossWorkload(d: Deployment, ctx: ValidationContext, issues: ValidationIssue[]): void {
  const report = (w: Workload | undefined, field: string, value: unknown, expected: string) =>
    issues.push({ workload: w?.name, type: w?.type, field, value, expected });

  const byName = new Map<string, Workload>();
  for (const w of d.workloads) {
    if (byName.has(w.name)) report(w, "name", w.name, "a name no other workload of the deployment has");
    else byName.set(w.name, w);
    if (w.version > d.version) report(w, "version", w.version, `at most the deployment version ${d.version}`);
  }
  const ofType = <K extends Workload["type"]>(name: string, type: K) => {
    const w = byName.get(name);
    return w?.type === type ? (w as WorkloadOf<K>) : undefined;
  };
  const external = new Set(ctx.externalNetworks ?? []);
  const networkKnown = (name: string) => ofType(name, "network") !== undefined || external.has(name);

  const publicIpUsers = new Map<string, string>();
  const diskUsers = new Map<string, string>();
  const ipUsers = new Map<string, string>();
  for (const w of d.workloads) {
    if (w.type === "zmachine") {
      w.data.network.interfaces.forEach((nic, i) => {
        const field = `data.network.interfaces.${i}`;
        const net = ofType(nic.network, "network");
        if (!net && !external.has(nic.network)) {
          return report(w, `${field}.network`, nic.network, "the name of a network workload in this deployment (or an existing network of yours on the node)");
        }
        const subnet = net ? parseNetwork(net.data.subnet) : undefined;
        if (subnet && !cidrContains(subnet, nic.ip)) report(w, `${field}.ip`, nic.ip, `an address inside the node's subnet ${net?.data.subnet} of network '${nic.network}'`);
        const key = `${nic.network}/${nic.ip}`;
        const other = ipUsers.get(key);
        if (other) report(w, `${field}.ip`, nic.ip, `an address not already given to zmachine '${other}'`);
        else ipUsers.set(key, w.name);
      });
      const pub = w.data.network.public_ip;
      if (pub !== "") {
        if (!ofType(pub, "ip")) report(w, "data.network.public_ip", pub, "the name of an ip workload in this deployment");
        const other = publicIpUsers.get(pub);
        if (other) report(w, "data.network.public_ip", pub, `an ip workload not already used by zmachine '${other}'`);
        else publicIpUsers.set(pub, w.name);
      }
      if (w.data.network.mycelium && !networkKnown(w.data.network.mycelium.network)) {
        report(w, "data.network.mycelium.network", w.data.network.mycelium.network, "the name of a network workload");
      }
      w.data.mounts.forEach((m, i) => {
        const disk = byName.get(m.name);
        if (!disk || (disk.type !== "zmount" && disk.type !== "volume")) {
          return report(w, `data.mounts.${i}.name`, m.name, "the name of a zmount or volume workload in this deployment");
        }
        const other = diskUsers.get(m.name);
        if (disk.type === "zmount" && other) report(w, `data.mounts.${i}.name`, m.name, `a zmount not already attached to zmachine '${other}' (a raw disk has one VM)`);
        else diskUsers.set(m.name, w.name);
      });
    } else if (w.type === "zlogs") {
      if (!ofType(w.data.zmachine, "zmachine")) report(w, "data.zmachine", w.data.zmachine, "the name of a zmachine in this deployment");
    } else if ((w.type === "gateway-name-proxy" || w.type === "gateway-fqdn-proxy") && w.data.network !== undefined) {
      if (!networkKnown(w.data.network)) report(w, "data.network", w.data.network, "the name of a network workload");
    }
  }
  validateSignatureRequirement(d, issues);
}

function validateSignatureRequirement(d: Deployment, issues: ValidationIssue[]): void {
  const sr = d.signature_requirement;
  const report = (field: string, value: unknown, expected: string) => issues.push({ field: `signature_requirement.${field}`, value, expected });
  const twins = new Set<number>();
  let total = 0;
  sr.requests.forEach((r, i) => {
    if (twins.has(r.twin_id)) report(`requests.${i}.twin_id`, r.twin_id, "each twin listed once");
    twins.add(r.twin_id);
    total += r.weight;
  });
  if (!twins.has(d.twin_id)) report("requests", sr.requests.map((r) => r.twin_id), `a request for the deployment's own twin ${d.twin_id}`);
  if (sr.weight_required > total) report("weight_required", sr.weight_required, `at most the total weight of the requests (${total})`);
  const signed = new Set<number>();
  sr.signatures.forEach((s, i) => {
    if (!twins.has(s.twin_id)) report(`signatures.${i}.twin_id`, s.twin_id, "a twin listed in requests");
    if (signed.has(s.twin_id)) report(`signatures.${i}.twin_id`, s.twin_id, "one signature per twin");
    signed.add(s.twin_id);
    if (!/^(0x)?[0-9a-fA-F]{130}$/.test(s.signature)) report(`signatures.${i}.signature`, s.signature, "65 bytes (r||s||v) as 130 hex digits");
  });
}
