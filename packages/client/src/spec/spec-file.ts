/**
 * The declarative spec (`zgrid apply -f spec.yaml`): a project of networks and VMs, parsed with
 * `yaml` (which keeps line numbers) and checked with zod, so an error names file, line and field.
 *
 * ```yaml
 * project: shop
 * networks:
 *   - name: net
 *     ip_range: 10.60.0.0/16
 * vms:
 *   - name: web
 *     node: 1
 *     network: net
 *     flist: busybox            # a name the grid knows, or an URL
 *     memory: 256               # MiB
 *     env: { MODE: prod }
 *     ports: ["shop:80"]        # compose-like: a name gateway shop.<node domain> -> port 80
 *                               # ("app.example.org:443/tls": FQDN gateway with TLS passthrough)
 * gateways:                     # the same, or public backends, spelled out
 *   - name: blog
 *     fqdn: blog.example.org    # optional: your own domain instead of blog.<node domain>
 *     backends: [http://185.69.0.20:80]
 *     tls_passthrough: false
 * zdbs:
 *   - name: store
 *     node: 1                   # optional: else a node with the HDD capacity free
 *     size: 1G                  # bytes, or a size like 512M / 1G
 *     mode: seq                 # user (default) or seq
 *     password: s3cret
 *     public: false
 * ```
 *
 * @example
 * ```ts
 * const spec = loadSpec("spec.yaml", { flists: { busybox: "http://hub/…/busybox.fl" } });
 * ```
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import { z } from "zod";
import { WORKLOAD_NAME } from "@zgrid/types";
import { InputError, SpecError } from "../errors/client-errors.ts";
import { checkGatewayInput, type GatewayInput } from "../gateways/gateway-service.ts";
import { parseSize } from "../format.ts";
import { vmModelSchema, type VmModel } from "../models/vm-model.ts";

const name = z.string().regex(WORKLOAD_NAME, "letters, digits and _ only, at most 36");

const PORT_TEXT = /^([a-z0-9_-]{3,36}|(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{0,62}):(\d{1,5})(\/tls)?$/;
const gwName = z.string().regex(/^[a-z0-9_-]{3,36}$/, "3 to 36 of a-z 0-9 - _");
const portSchema = z.union([
  z.string().regex(PORT_TEXT, "NAME:PORT (a name gateway) or FQDN:PORT, with /tls for TLS passthrough, e.g. shop:80"),
  z.strictObject({ name: gwName, port: z.number().int().min(1).max(65535), fqdn: z.string().optional(), tls_passthrough: z.boolean().default(false) }),
]);

const gatewaySchema = z.strictObject({
  name: gwName,
  vm: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  backends: z.array(z.string()).max(64).optional(),
  fqdn: z.string().optional(),
  tls_passthrough: z.boolean().default(false),
  node: z.number().int().min(1).optional(),
});

export const specSchema = z.strictObject({
  project: name,
  networks: z.array(z.strictObject({ name, ip_range: z.string().regex(/^\d+\.\d+\.0\.0\/16$/, "a /16 like 10.60.0.0/16").optional() })).default([]),
  vms: z.array(vmModelSchema.extend({ flist: z.string().min(1), ports: z.array(portSchema).max(16).default([]) })).default([]),
  gateways: z.array(gatewaySchema).max(64).default([]),
  zdbs: z.array(z.strictObject({
    name: z.string().regex(/^[a-z0-9_]{1,30}$/, "1 to 30 of a-z 0-9 _"),
    node: z.number().int().min(1).optional(),
    size: z.union([z.number().int().min(1024 * 1024), z.string().regex(/^\s*\d+(\.\d+)?\s*[KMGT]?(i?B)?\s*$/i, "a size like 512M or 10G")]),
    mode: z.enum(["user", "seq"]).default("user"),
    password: z.string().max(128).regex(/^\S*$/, "no whitespace").default(""),
    public: z.boolean().default(false),
  })).default([]),
});

export interface ZdbModel {
  name: string;
  node?: number;
  /** bytes */
  size: number;
  mode: "user" | "seq";
  password: string;
  public: boolean;
}

export interface Spec {
  file: string;
  project: string;
  networks: Array<{ name: string; ip_range?: string }>;
  vms: VmModel[];
  zdbs: ZdbModel[];
  /** From `gateways` and the VMs' `ports`. */
  gateways: GatewayInput[];
  /**
   * What a VM waits for before it is deployed or updated (compose `depends_on` conditions), by VM
   * name: `applyPlan` waits for each (applyPlan's `waitDependency`).
   */
  depends?: Record<string, DependsOn[]>;
  /**
   * Compose: the project's VMs resolve each other by name (as on a compose network): `applyPlan`
   * gives each VM the names and addresses of the others on its network (ZGRID_HOSTS, written into
   * /etc/hosts by the guest init) and refreshes them in the running VMs. Value: extra names of a VM
   * (its service name when that differs from the VM's name, e.g. replicas).
   */
  serviceNames?: Record<string, string[]>;
  /**
   * Top-level sections another package defines (`clusters:` of @zgrid/k8s), checked with the
   * schema given to `parseSpec` (errors name file, line and field as for the rest).
   */
  extensions?: Record<string, unknown>;
}

/** Options of `loadSpec` / `parseSpec`. */
export interface SpecOptions {
  /** Short flist names (busybox) and their URLs. */
  flists?: Record<string, string>;
  /** More top-level sections and their schemas, e.g. `{ clusters: clusterSpecSchema }` (each one optional). */
  extensions?: Record<string, z.ZodType>;
}

/** Compose's conditions: the dependency runs; its health check passes; it ran and exited with 0. */
export type DependsCondition = "service_started" | "service_healthy" | "service_completed_successfully";
export interface DependsOn { vm: string; condition: DependsCondition }

/** A compose-like port entry as a gateway to the VM. */
function portGateway(vm: string, p: z.infer<typeof portSchema>): GatewayInput {
  if (typeof p !== "string") return { name: p.name, vm, port: p.port, ...(p.fqdn ? { fqdn: p.fqdn } : {}), ...(p.tls_passthrough ? { tlsPassthrough: true } : {}) };
  const m = PORT_TEXT.exec(p)!;
  const host = m[1]!;
  const fqdn = host.includes(".");
  return { name: fqdn ? host.replace(/\./g, "-").slice(0, 36) : host, vm, port: Number(m[2]), ...(fqdn ? { fqdn: host } : {}), ...(m[3] ? { tlsPassthrough: true } : {}) };
}

/** Reads and checks a spec file. `flists` maps short names (busybox) to URLs. */
let yaml: typeof Yaml | undefined;
/** The YAML parser, loaded when a spec is read (commands that read none do not pay for it). */
const loadYaml = (): typeof Yaml => (yaml ??= createRequire(import.meta.url)("yaml") as typeof Yaml);

export function loadSpec(file: string, o: SpecOptions = {}): Spec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, undefined, "", `cannot read: ${(e as Error).message}`, { hint: "check the path given to -f" });
  }
  return parseSpec(text, file, o);
}

export function parseSpec(text: string, file: string, o: SpecOptions = {}): Spec {
  const { LineCounter, parseDocument, isNode } = loadYaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new SpecError(file, lines.linePos(e.pos[0]).line, "", `YAML: ${e.message.split("\n")[0]}`, { hint: "fix the YAML syntax" });
  }
  const raw = doc.toJS() as unknown;
  const ext = Object.entries(o.extensions ?? {});
  for (const [key] of ext) if (key in specSchema.shape) throw new Error(`spec extension '${key}' would replace a section of the spec`);
  const schema = ext.length ? specSchema.extend(Object.fromEntries(ext.map(([k, v]) => [k, v.optional()]))) : specSchema;
  const r = schema.safeParse(raw);
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SpecError(file, lineOf(i.path), i.path.join(".") || "(root)", i.message, { details: { issues: r.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`) }, hint: "fix that field and apply again" });
  }
  const spec = r.data as z.output<typeof specSchema>;
  const extensions = Object.fromEntries(ext.map(([k]) => [k, (r.data as Record<string, unknown>)[k]]).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  const seen = new Set<string>();
  for (const [i, vm] of spec.vms.entries()) {
    if (seen.has(vm.name)) throw new SpecError(file, lineOf(["vms", i, "name"]), `vms.${i}.name`, `VM name '${vm.name}' is used twice`);
    seen.add(vm.name);
    if (!spec.networks.some((n) => n.name === vm.network)) {
      throw new SpecError(file, lineOf(["vms", i, "network"]), `vms.${i}.network`, `network '${vm.network}' is not declared under networks`, { hint: `add "- name: ${vm.network}" under networks` });
    }
    if (!/^https?:\/\//.test(vm.flist)) {
      const url = o.flists?.[vm.flist];
      if (!url) throw new SpecError(file, lineOf(["vms", i, "flist"]), `vms.${i}.flist`, `'${vm.flist}' is neither an URL nor a known flist (${Object.keys(o.flists ?? {}).join(", ") || "none known"})`);
      vm.flist = url;
    }
  }
  const zdbs: ZdbModel[] = [];
  for (const [i, z] of spec.zdbs.entries()) {
    if (zdbs.some((x) => x.name === z.name)) throw new SpecError(file, lineOf(["zdbs", i, "name"]), `zdbs.${i}.name`, `zdb name '${z.name}' is used twice`);
    const size = typeof z.size === "number" ? z.size : parseSize(z.size, "M");
    if (!(size >= 1024 * 1024)) throw new SpecError(file, lineOf(["zdbs", i, "size"]), `zdbs.${i}.size`, "at least 1M");
    zdbs.push({ name: z.name, ...(z.node ? { node: z.node } : {}), size, mode: z.mode, password: z.password, public: z.public });
  }
  const gateways: Array<[GatewayInput, PropertyKey[]]> = [];
  for (const [i, vm] of spec.vms.entries()) vm.ports.forEach((p, j) => gateways.push([portGateway(vm.name, p), ["vms", i, "ports", j]]));
  spec.gateways.forEach((g, i) => gateways.push([{
    name: g.name, ...(g.vm ? { vm: g.vm } : {}), ...(g.port ? { port: g.port } : {}), ...(g.backends ? { backends: g.backends } : {}),
    ...(g.fqdn ? { fqdn: g.fqdn } : {}), ...(g.tls_passthrough ? { tlsPassthrough: true } : {}), ...(g.node ? { node: g.node } : {}),
  }, ["gateways", i]]));
  const names = new Set<string>();
  for (const [g, path] of gateways) {
    const at = (msg: string, hint?: string) => new SpecError(file, lineOf(path), path.join("."), msg, hint ? { hint } : {});
    if (names.has(g.name)) throw at(`gateway name '${g.name}' is used twice`);
    names.add(g.name);
    if (g.vm && !spec.vms.some((v) => v.name === g.vm)) throw at(`VM '${g.vm}' is not declared under vms`);
    try {
      checkGatewayInput(g);
    } catch (e) {
      if (e instanceof InputError) throw at(e.shortMessage, e.hint);
      throw e;
    }
  }
  const vms = spec.vms.map(({ ports: _ports, ...vm }) => vm);
  return { file, project: spec.project, networks: spec.networks.map((n) => ({ name: n.name, ...(n.ip_range ? { ip_range: n.ip_range } : {}) })), vms, gateways: gateways.map(([g]) => g), zdbs, ...(Object.keys(extensions).length ? { extensions } : {}) };
}
