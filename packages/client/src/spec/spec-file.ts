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
import { LineCounter, parseDocument, isNode } from "yaml";
import { z } from "zod";
import { WORKLOAD_NAME } from "@zgrid/types";
import { SpecError } from "../errors/client-errors.ts";
import { parseSize } from "../format.ts";
import { vmModelSchema, type VmModel } from "../models/vm-model.ts";

const name = z.string().regex(WORKLOAD_NAME, "letters, digits and _ only, at most 36");

export const specSchema = z.strictObject({
  project: name,
  networks: z.array(z.strictObject({ name, ip_range: z.string().regex(/^\d+\.\d+\.0\.0\/16$/, "a /16 like 10.60.0.0/16").optional() })).default([]),
  vms: z.array(vmModelSchema.extend({ flist: z.string().min(1) })).default([]),
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
}

/** Reads and checks a spec file. `flists` maps short names (busybox) to URLs. */
export function loadSpec(file: string, o: { flists?: Record<string, string> } = {}): Spec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, undefined, "", `cannot read: ${(e as Error).message}`, { hint: "check the path given to -f" });
  }
  return parseSpec(text, file, o);
}

export function parseSpec(text: string, file: string, o: { flists?: Record<string, string> } = {}): Spec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new SpecError(file, lines.linePos(e.pos[0]).line, "", `YAML: ${e.message.split("\n")[0]}`, { hint: "fix the YAML syntax" });
  }
  const raw = doc.toJS() as unknown;
  const r = specSchema.safeParse(raw);
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
  const spec = r.data;
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
  return { file, project: spec.project, networks: spec.networks.map((n) => ({ name: n.name, ...(n.ip_range ? { ip_range: n.ip_range } : {}) })), vms: spec.vms, zdbs };
}
