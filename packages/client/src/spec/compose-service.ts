/**
 * One compose service's parts in zgrid terms (see compose-file.ts): depends_on order, volumes →
 * disks, deploy.resources → cpu/memory, restart, healthcheck, ports → gateways. Anything that
 * cannot be honoured is pushed to `warnings` with its path.
 *
 * @example
 * ```ts
 * composeRestart({ restart: "on-failure:3" }, "services.app"); // { restart: "on-failure:3" }
 * parseDuration("1m30s"); // 90
 * ```
 */
import { InputError, SpecError } from "../errors/client-errors.ts";
import { parseSize } from "../format.ts";
import type { GatewayInput } from "../gateways/gateway-service.ts";
import type { VmModelInput } from "../models/vm-model.ts";
import type { ComposeFile, ComposeService } from "./compose-schema.ts";
import type { DependsCondition, DependsOn } from "./spec-file.ts";

const MiB = 1024 ** 2;
/** Size of a volume's disk when the file does not say (`x-zgrid: {size}` or `driver_opts: {size}`). */
export const DEFAULT_VOLUME_MIB = 1024;

/** Services in an order where each comes after what it depends on (file order otherwise). */
export function orderServices<T>(services: Array<[string, T & { depends_on?: ComposeService["depends_on"] }]>, fail: (m: string) => Error): Array<[string, T]> {
  const names = new Set(services.map(([n]) => n));
  const deps = new Map(services.map(([n, s]) => [n, Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})]));
  for (const [n, ds] of deps) for (const d of ds) if (!names.has(d)) throw fail(`service '${n}' depends on '${d}', which is not defined`);
  const out: Array<[string, T]> = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (n: string, chain: string[]) => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") throw fail(`depends_on forms a cycle: ${[...chain, n].join(" → ")}`);
    state.set(n, "visiting");
    for (const d of deps.get(n) ?? []) visit(d, [...chain, n]);
    state.set(n, "done");
    out.push(services.find(([x]) => x === n)! as [string, T]);
  };
  for (const [n] of services) visit(n, []);
  return out;
}

const CONDITIONS = ["service_started", "service_healthy", "service_completed_successfully"] as const;

/**
 * A service's `depends_on` as conditions on the VMs of the services it names (every replica). The
 * short form means `service_started`, as in compose; `restart: true` is warned about (an update of
 * the dependency does not restart the dependent).
 */
export function composeDepends(s: ComposeService, path: string, vmsOf: (service: string) => string[], warnings: string[], fail: (m: string) => Error): DependsOn[] {
  const entries: Array<[string, { condition?: string; restart?: unknown; required?: unknown } | null]> = Array.isArray(s.depends_on)
    ? s.depends_on.map((d) => [d, null]) : Object.entries(s.depends_on ?? {});
  const out: DependsOn[] = [];
  for (const [svc, v] of entries) {
    const condition = v?.condition ?? "service_started";
    if (!(CONDITIONS as readonly string[]).includes(condition)) throw fail(`${path}.depends_on.${svc}.condition: '${condition}' is not one of ${CONDITIONS.join(", ")}`);
    if (v?.restart) warnings.push(`${path}.depends_on.${svc}.restart: not supported by zgrid (an update of '${svc}' does not restart this service), ignored`);
    for (const vm of vmsOf(svc)) out.push({ vm, condition: condition as DependsCondition });
  }
  return out;
}

export interface ComposeDisk { name: string; size: number; mountpoint: string; volume: string }

export function composeDisks(s: ComposeService, c: ComposeFile, svc: string, path: string, warnings: string[], fail: (m: string) => Error): ComposeDisk[] {
  const out: ComposeDisk[] = [];
  for (const [i, v] of (s.volumes ?? []).entries()) {
    let source: string | undefined;
    let target: string;
    let type = "volume";
    if (typeof v === "string") {
      const parts = v.split(":");
      if (parts.length === 1) target = parts[0]!;
      else { source = parts[0]; target = parts[1]!; }
      if (source && /^[./~]/.test(source)) type = "bind";
    } else {
      type = v.type ?? "volume";
      source = v.source;
      target = v.target;
    }
    if (type !== "volume") {
      warnings.push(`${path}.volumes.${i}: a ${type} mount (${source ?? ""}:${target}) cannot come from this machine; not mounted`);
      continue;
    }
    if (!target.startsWith("/")) throw fail(`volume target '${target}' is not an absolute path`);
    const name = (source ?? `${svc}_v${i + 1}`).replace(/[^A-Za-z0-9_]/g, "_").slice(0, 36);
    if (source && c.volumes && !(source in c.volumes)) throw fail(`volume '${source}' is not declared under the top-level volumes`);
    const decl = source ? c.volumes?.[source] : undefined;
    const sizeText = decl?.["x-zgrid"]?.size ?? decl?.driver_opts?.size;
    let size = DEFAULT_VOLUME_MIB;
    if (sizeText !== undefined) {
      size = typeof sizeText === "number" ? sizeText : Math.ceil(parseSize(String(sizeText), "M") / MiB);
      if (!(size >= 1)) throw fail(`volume '${source}': size ${String(sizeText)} is not a size like 512M or 10G`);
    } else warnings.push(`${path}.volumes.${i}: volume '${name}' becomes a ${DEFAULT_VOLUME_MIB} MiB disk (set volumes.${source ?? name}.x-zgrid.size)`);
    for (const k of Object.keys(decl ?? {})) if (k !== "x-zgrid" && k !== "driver_opts") warnings.push(`volumes.${source}.${k}: not supported by zgrid, ignored`);
    if (typeof v !== "string" && v.read_only) warnings.push(`${path}.volumes.${i}: read_only is not supported, the disk is writable`);
    out.push({ name, size, mountpoint: target, volume: source ?? "" });
  }
  return out;
}

export function composeResources(s: ComposeService, path: string, warnings: string[]): Pick<VmModelInput, "cpu" | "memory"> {
  const r = s.deploy?.resources;
  const cpusText = r?.limits?.cpus ?? r?.reservations?.cpus;
  const memText = r?.limits?.memory ?? r?.reservations?.memory;
  const out: Pick<VmModelInput, "cpu" | "memory"> = {};
  if (cpusText !== undefined) {
    const cpus = Number(cpusText);
    if (!(cpus > 0)) throw new InputError(`${path}.deploy.resources: cpus '${String(cpusText)}' is not a positive number`);
    out.cpu = Math.ceil(cpus);
    if (out.cpu !== cpus) warnings.push(`${path}.deploy.resources: ${cpus} CPUs rounded up to ${out.cpu} vCPU(s)`);
  }
  if (memText !== undefined) {
    let mib = Math.ceil(parseSize(memText, "M") / MiB);
    if (mib < 256) {
      warnings.push(`${path}.deploy.resources: memory ${memText} raised to 256 MiB (the smallest VM)`);
      mib = 256;
    }
    out.memory = mib;
  }
  for (const k of Object.keys(s.deploy ?? {})) if (!["replicas", "resources", "restart_policy"].includes(k)) warnings.push(`${path}.deploy.${k}: not supported by zgrid, ignored`);
  return out;
}

export function composeRestart(s: ComposeService, path: string): Pick<VmModelInput, "restart"> {
  const p = s.deploy?.restart_policy;
  if (s.restart !== undefined) {
    if (!/^(no|always|unless-stopped|on-failure(:\d{1,4})?)$/.test(s.restart)) throw new InputError(`${path}.restart: '${s.restart}' is not no, always, unless-stopped or on-failure[:N]`);
    return { restart: s.restart };
  }
  if (p?.condition) {
    const policy = p.condition === "none" ? "no" : p.condition === "any" ? "always" : "on-failure";
    return { restart: policy === "on-failure" && p.max_attempts !== undefined ? `on-failure:${p.max_attempts}` : policy };
  }
  return {};
}

/** Compose durations ("1m30s", "10s", "500ms") in seconds. */
export function parseDuration(text: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g;
  const clean = text.trim();
  let total = 0;
  let used = 0;
  for (const m of clean.matchAll(re)) {
    const n = Number(m[1]);
    total += n * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[m[2] as "h"];
    used += m[0].length;
  }
  if (used !== clean.length || clean === "") throw new InputError(`${what}: '${text}' is not a duration like 30s or 1m30s`);
  return total;
}

export function composeHealthcheck(s: ComposeService, path: string): Pick<VmModelInput, "healthcheck"> {
  const h = s.healthcheck;
  if (!h) return {};
  if (h.disable) return { healthcheck: { test: ["NONE"] } };
  if (h.test === undefined) throw new InputError(`${path}.healthcheck: no test`, { hint: 'e.g. test: ["CMD", "pg_isready"]' });
  const test = typeof h.test === "string" ? ["CMD-SHELL", h.test] : h.test;
  if (!["CMD", "CMD-SHELL", "NONE"].includes(test[0] ?? "")) throw new InputError(`${path}.healthcheck.test: starts with '${test[0]}', expected CMD, CMD-SHELL or NONE`);
  const sec = (v: string | undefined, k: string) => (v === undefined ? {} : { [k]: parseDuration(v, `${path}.healthcheck.${k}`) });
  return { healthcheck: { test, ...sec(h.interval, "interval"), ...sec(h.timeout, "timeout"), ...sec(h.start_period, "start_period"), ...(h.retries !== undefined ? { retries: h.retries } : {}) } };
}

/**
 * Ports: each published TCP port becomes a name gateway (`<project>-<service>`, one per port:
 * `-<port>` after the first) forwarding HTTP to the container port; with a public IP the VM answers
 * on its own address and port (no port mapping: a different host port is warned about).
 */
export function composePorts(s: ComposeService, o: { project: string; service: string; vm: string; replica: number; path: string; warnings: string[]; publicIp: boolean; gateway?: string | undefined }): GatewayInput[] {
  const out: GatewayInput[] = [];
  for (const [i, p] of (s.ports ?? []).entries()) {
    let target: number;
    let published: string | undefined;
    let protocol = "tcp";
    if (typeof p === "number") target = p;
    else if (typeof p === "string") {
      const m = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(\d+(?:-\d+)?):)?(\d+)(?:\/(tcp|udp))?$/.exec(p);
      if (!m) throw new SpecError("compose", undefined, `${o.path}.ports.${i}`, `'${p}' is not a port like 80, 8080:80 or 8080:80/tcp`);
      published = m[1];
      target = Number(m[2]);
      protocol = m[3] ?? "tcp";
    } else {
      target = p.target;
      published = p.published === undefined ? undefined : String(p.published);
      protocol = p.protocol ?? "tcp";
    }
    if (protocol !== "tcp") {
      o.warnings.push(`${o.path}.ports.${i}: ${protocol} is not forwarded (gateways carry TCP/HTTP only)`);
      continue;
    }
    if (o.publicIp) {
      if (published && published !== String(target)) o.warnings.push(`${o.path}.ports.${i}: the VM answers on its public IP at port ${target}, not ${published} (no port mapping)`);
      continue;
    }
    const base = (o.gateway ?? `${o.project}-${o.service}`).toLowerCase().replace(/[^a-z0-9_-]/g, "-");
    const name = `${base}${i > 0 ? `-${target}` : ""}${o.replica ? `-${o.replica}` : ""}`.slice(0, 36);
    if (published && published !== "80" && published !== String(target)) o.warnings.push(`${o.path}.ports.${i}: published as gateway '${name}' on HTTP port 80, not ${published}`);
    out.push({ name, vm: o.vm, port: target });
  }
  return out;
}
