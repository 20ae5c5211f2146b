/**
 * A Docker Compose file as a zgrid spec (`zgrid apply -f docker-compose.yml`): services → VMs
 * (`deploy.replicas` → `name_1…name_N`), image, command → cmd, entrypoint, environment/env_file,
 * working_dir, user, restart, healthcheck, stop_signal, deploy.resources → cpu/memory, named
 * volumes → disks, networks → private networks (one per VM), ports → a name gateway
 * (`<project>-<service>`, HTTP to the container port) or, with `x-zgrid: {public_ip: true}`, the VM's
 * own public IP; depends_on orders the VMs and its conditions (service_started, service_healthy,
 * service_completed_successfully) are waited for by `applyPlan`. Variables are interpolated from the environment and the
 * `.env` next to the file. Keys zgrid does not honour come back in `warnings`, one line each.
 *
 * @example
 * ```ts
 * const c = await loadCompose("docker-compose.yml", { flists: { busybox: url }, resolveImage: (ref) => hubConvert(ref) });
 * c.warnings; // ["services.web.privileged: not supported by zgrid, ignored"]
 * await applyPlan(grid, c.spec, await planSpec(grid, c.spec));
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, resolve } from "node:path";
import type * as Yaml from "yaml";
import { InputError, SpecError } from "../errors/client-errors.ts";
import { parseSize } from "../format.ts";
import { vmModelSchema, type VmModel, type VmModelInput } from "../models/vm-model.ts";
import type { GatewayInput } from "../gateways/gateway-service.ts";
import { interpolateAll, parseEnvFile } from "./compose-env.ts";
import { composeFileSchema, SERVICE_KEYS, TOP_KEYS, type ComposeFile, type ComposeService } from "./compose-schema.ts";

let yaml: typeof Yaml | undefined;
/** The YAML parser, loaded when a compose file is read (commands that read none do not pay for it). */
const loadYaml = (): typeof Yaml => (yaml ??= createRequire(import.meta.url)("yaml") as typeof Yaml);
import { composeDepends, composeDisks, composeHealthcheck, composePorts, composeResources, composeRestart, orderServices } from "./compose-service.ts";
import type { DependsOn, Spec } from "./spec-file.ts";

export interface ComposeOptions {
  /** Flist names the grid knows (local grid flists, your pushed images): `image: busybox`. */
  flists?: Record<string, string>;
  /** Turns an image reference (`registry/name:tag`) into a flist URL (the hub converts it). */
  resolveImage?: (ref: string) => Promise<string>;
  /** Variables for interpolation (default: process.env, then the .env file next to the compose file). */
  env?: Record<string, string | undefined>;
  /** Project name (default: `name:` in the file, else its directory's name). */
  project?: string;
}

export interface ComposeResult {
  spec: Spec;
  warnings: string[];
  /** service → the image it names and the flist it runs. */
  images: Array<{ service: string; image: string; flist: string }>;
}

/** True for a compose file: named like one, or a YAML document with top-level `services:`. */
export function isComposeFile(file: string, text?: string): boolean {
  if (/(^|[\\/])(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(file)) return true;
  return text !== undefined && /^services\s*:/m.test(text) && !/^vms\s*:/m.test(text);
}

export async function loadCompose(file: string, o: ComposeOptions = {}): Promise<ComposeResult> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, undefined, "", `cannot read: ${(e as Error).message}`, { hint: "check the path given to -f" });
  }
  const dir = dirname(resolve(file));
  const dotenv = existsSync(`${dir}/.env`) ? parseEnvFile(readFileSync(`${dir}/.env`, "utf8"), `${dir}/.env`) : {};
  const env = { ...dotenv, ...(o.env ?? process.env) };
  const { LineCounter, parseDocument } = loadYaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new SpecError(file, lines.linePos(e.pos[0]).line, "", `YAML: ${e.message.split("\n")[0]}`, { hint: "fix the YAML syntax" });
  }
  const raw = interpolateAll(doc.toJS({ maxAliasCount: 100 }), env);
  const r = composeFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SpecError(file, undefined, i.path.join(".") || "(root)", i.message, { details: { issues: r.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`) }, hint: "fix that field and apply again" });
  }
  return composeToSpec(r.data, { ...o, file, dir, env });
}

/** The conversion itself (no file access except env_file). */
export async function composeToSpec(c: ComposeFile, o: ComposeOptions & { file: string; dir: string; env: Record<string, string | undefined> }): Promise<ComposeResult> {
  const warnings: string[] = [];
  const at = (path: string, msg: string, hint?: string) => new SpecError(o.file, undefined, path, msg, hint ? { hint } : {});
  for (const k of Object.keys(c)) if (!TOP_KEYS.has(k) && !k.startsWith("x-")) warnings.push(`${k}: not supported by zgrid, ignored`);
  if (c.version !== undefined) warnings.push("version: obsolete in the compose specification, ignored");
  const project = workloadName(o.project ?? c.name ?? basename(o.dir), "project");
  const networks = new Map<string, { name: string; ip_range?: string }>();
  const networkOf = (composeName: string) => {
    let n = networks.get(composeName);
    if (!n) {
      const subnet = c.networks?.[composeName]?.ipam?.config?.[0]?.subnet;
      const range = subnet && /^\d+\.\d+\.0\.0\/16$/.test(subnet) ? subnet : undefined;
      if (subnet && !range) warnings.push(`networks.${composeName}.ipam: subnet ${subnet} is not a /16 like 10.60.0.0/16; zgrid picks the range`);
      n = { name: workloadName(`${project}_${composeName}`, `networks.${composeName}`), ...(range ? { ip_range: range } : {}) };
      networks.set(composeName, n);
    }
    return n;
  };
  const vms: VmModel[] = [];
  const gateways: GatewayInput[] = [];
  const images: ComposeResult["images"] = [];
  const flistCache = new Map<string, Promise<string>>();
  const services = Object.entries(c.services).map(([name, s]) => [name, s ?? {}] as [string, ComposeService]);
  const volumeUsers = new Map<string, string>();
  const depends: Record<string, DependsOn[]> = {};
  const serviceNames: Record<string, string[]> = {};
  const vmsOf = (svc: string): string[] => {
    const n = c.services[svc]?.deploy?.replicas ?? 1;
    return Array.from({ length: n }, (_, i) => workloadName(n > 1 ? `${svc}_${i + 1}` : svc, `services.${svc}`));
  };
  for (const [svc, s] of orderServices(services, (m) => at("services", m))) {
    const path = `services.${svc}`;
    for (const k of Object.keys(s)) if (!SERVICE_KEYS.has(k)) warnings.push(`${path}.${k}: not supported by zgrid, ignored`);
    const ext = s["x-zgrid"] ?? {};
    const image = ext.flist ?? s.image;
    if (!image) throw at(path, "no image (zgrid does not build images)", "build and push it (`zgrid image push`), then name it in image:");
    let flist = flistCache.get(image);
    if (!flist) {
      flist = resolveFlist(image, o, path);
      flistCache.set(image, flist);
    }
    const url = await flist;
    images.push({ service: svc, image, flist: url });
    const netNames = Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});
    if (netNames.length > 1) throw at(`${path}.networks`, `joins ${netNames.length} networks; a zgrid VM joins one private network`, "keep one network per service");
    if (!Array.isArray(s.networks) && s.networks && Object.values(s.networks).some((v) => v && Object.keys(v).length)) warnings.push(`${path}.networks: aliases/addresses are not supported, ignored`);
    const network = networkOf(netNames[0] ?? "default");
    const env = { ...envFiles(s, o.dir, path), ...environment(s, o.env) };
    const disks = composeDisks(s, c, svc, path, warnings, (m) => at(`${path}.volumes`, m));
    for (const d of disks) {
      const other = volumeUsers.get(d.volume);
      if (d.volume && other && other !== svc) throw at(`${path}.volumes`, `volume '${d.volume}' is used by '${other}' too; a disk attaches to one VM`, "give each service its own volume");
      if (d.volume) volumeUsers.set(d.volume, svc);
    }
    const res = composeResources(s, path, warnings);
    const deps = composeDepends(s, path, vmsOf, warnings, (m) => at(`${path}.depends_on`, m));
    const replicas = s.deploy?.replicas ?? 1;
    if (replicas === 0) warnings.push(`${path}.deploy.replicas: 0, the service is not deployed`);
    for (let i = 1; i <= replicas; i++) {
      const name = workloadName(replicas > 1 ? `${svc}_${i}` : svc, path);
      const input: VmModelInput = {
        name, flist: url, network: network.name, env, ...res,
        disks: disks.map(({ volume: _v, ...d }) => d),
        ...(s.entrypoint !== undefined ? { entrypoint: s.entrypoint } : {}),
        ...(s.command !== undefined ? { cmd: s.command } : {}),
        ...(s.working_dir ? { workdir: s.working_dir } : {}),
        ...(s.user !== undefined ? { user: String(s.user) } : {}),
        ...composeRestart(s, path),
        ...composeHealthcheck(s, path),
        ...(s.stop_signal ? { stop_signal: s.stop_signal } : {}),
        ...(ext.node ? { node: ext.node } : {}),
        ...(ext.rootfs !== undefined ? { rootfs: typeof ext.rootfs === "number" ? ext.rootfs : parseSize(ext.rootfs, "M") / 1024 ** 2 } : {}),
        ...(ext.public_ip ? { public_ip: true } : {}),
      };
      const parsed = vmModelSchema.safeParse(input);
      if (!parsed.success) {
        const i0 = parsed.error.issues[0]!;
        throw at(`${path}${i0.path.length ? `.${i0.path.join(".")}` : ""}`, i0.message);
      }
      vms.push(parsed.data);
      if (deps.length) depends[name] = deps;
      // the service's own name (a replica: `web_2`, and the first one also `web`), as compose DNS answers it
      const names = [...(i === 1 || replicas === 1 ? [svc] : []), ...(replicas > 1 ? [`${svc}-${i}`] : [])].filter((n) => n !== name && HOST_NAME.test(n));
      serviceNames[name] = names;
      gateways.push(...composePorts(s, { project, service: svc, vm: name, replica: replicas > 1 ? i : 0, path, warnings, publicIp: !!ext.public_ip, gateway: ext.gateway }));
    }
    if (s.hostname) warnings.push(`${path}.hostname: the VM's hostname is its name '${workloadName(svc, path)}'`);
  }
  if (vms.length === 0) throw at("services", "no service to deploy");
  const spec: Spec = { file: o.file, project, networks: [...networks.values()], vms, gateways, zdbs: [], serviceNames, ...(Object.keys(depends).length ? { depends } : {}) };
  return { spec, warnings, images };
}

/** A name /etc/hosts can carry. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

async function resolveFlist(image: string, o: ComposeOptions, path: string): Promise<string> {
  if (/^https?:\/\//.test(image)) return image;
  const known = o.flists?.[image] ?? o.flists?.[image.replace(/:latest$/, "")] ?? o.flists?.[`${image}.fl`];
  if (known) return known;
  if (!o.resolveImage) throw new InputError(`${path}.image: '${image}' is not a flist the grid knows and no hub converts images here`, { hint: "push it with `zgrid image push` or name a flist URL" });
  return o.resolveImage(image);
}

function environment(s: ComposeService, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const e of s.environment) {
      const i = e.indexOf("=");
      if (i < 0) { if (env[e] !== undefined) out[e] = env[e]; } else out[e.slice(0, i)] = e.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (v === null) { if (env[k] !== undefined) out[k] = env[k]; } else out[k] = String(v);
    }
  }
  return out;
}

function envFiles(s: ComposeService, dir: string, path: string): Record<string, string> {
  const files = s.env_file === undefined ? [] : typeof s.env_file === "string" ? [s.env_file] : s.env_file;
  const out: Record<string, string> = {};
  for (const f of files) {
    const p = typeof f === "string" ? f : f.path;
    const required = typeof f === "string" ? true : f.required !== false;
    const full = resolve(dir, p);
    if (!existsSync(full)) {
      if (required) throw new InputError(`${path}.env_file: ${p} does not exist`, { hint: "create it or mark it required: false" });
      continue;
    }
    Object.assign(out, parseEnvFile(readFileSync(full, "utf8"), p));
  }
  return out;
}

/** A compose name as a workload name: `-` and `.` become `_`, at most 36 characters. */
export function workloadName(name: string, path: string): string {
  const n = name.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 36);
  if (!/^[a-zA-Z0-9_]+$/.test(n)) throw new InputError(`${path}: '${name}' cannot be a zgrid name`, { hint: "use letters, digits and _" });
  return n;
}
