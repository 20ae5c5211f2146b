/**
 * The kernel line of a zgrid boot image: everything a stateless node knows before it fetches its
 * software. Parsed from `/proc/cmdline`, bounded and validated before use (the boot server or a
 * USB stick writes it, a farmer edits it by hand).
 *
 * | parameter | meaning |
 * |---|---|
 * | `zgrid.farm=7` | farm the node registers in |
 * | `zgrid.rpc=http://10.0.0.1:8545` | chain JSON-RPC |
 * | `zgrid.hub=http://10.0.0.1:8080` | flist hub (release flists and their blocks) |
 * | `zgrid.keys=0xabc…[,0xdef…]` | release keys: twin addresses allowed to sign release flists |
 * | `zgrid.release=owner/name.fl` | release flist on the hub (or a full http(s) URL) |
 * | `zgrid.net=dhcp` or `zgrid.net=static:10.0.0.5/24,10.0.0.1[,dns]` | network mode |
 * | `zgrid.contracts=token,registry,contracts,governance` | chain contract addresses (optional) |
 *
 * @example
 * ```ts
 * const p = parseBootParams("quiet zgrid.farm=1 zgrid.rpc=http://10.0.0.1:8545 zgrid.hub=http://10.0.0.1:8080 zgrid.keys=0x… zgrid.release=0x…/zos.fl");
 * p.releaseUrl; // "http://10.0.0.1:8080/flists/0x…/zos.fl"
 * ```
 */
import { BootParamError } from "./boot-errors.ts";

export type NetMode = { mode: "dhcp" } | { mode: "static"; address: string; gateway: string; dns?: string };

export interface BootParams {
  farmId: number;
  rpcUrl: string;
  hubUrl: string;
  releaseKeys: `0x${string}`[];
  releaseUrl: string;
  net: NetMode;
  contracts?: { token: `0x${string}`; registry: `0x${string}`; contracts: `0x${string}`; governance: `0x${string}` };
}

const MAX_CMDLINE = 4096;
const MAX_KEYS = 16;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function httpUrl(name: string, value: string | undefined): string {
  if (!value) throw new BootParamError(`${name} is missing from the kernel line`, { hint: `add ${name}=http://host:port (the boot server writes it into the iPXE script)` });
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new BootParamError(`${name}=${value.slice(0, 200)} is not a URL`, { hint: `use ${name}=http://host:port` });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new BootParamError(`${name} must be an http(s) URL, got ${u.protocol}`, { hint: `use ${name}=http://host:port` });
  return value.replace(/\/+$/, "");
}

function address(name: string, value: string): `0x${string}` {
  if (!ADDRESS.test(value)) throw new BootParamError(`${name}: '${value.slice(0, 60)}' is not an address (0x + 40 hex digits)`, { hint: "copy the address from `zgrid twin show` / the release announcement" });
  return value.toLowerCase() as `0x${string}`;
}

/** Parses `zgrid.net=`; throws a BootParamError naming the bad part. */
export function parseNetMode(value: string | undefined): NetMode {
  if (value === undefined || value === "dhcp") return { mode: "dhcp" };
  const m = /^static:([^,]+),([^,]+)(?:,([^,]+))?$/.exec(value);
  if (!m) throw new BootParamError(`zgrid.net=${value.slice(0, 100)} is not 'dhcp' nor 'static:<ip>/<prefix>,<gateway>[,<dns>]'`, { hint: "e.g. zgrid.net=static:10.4.0.20/24,10.4.0.1" });
  const [ip, prefix] = m[1]!.split("/");
  if (!ip || !IPV4.test(ip) || !prefix || !/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) throw new BootParamError(`zgrid.net: '${m[1]}' is not <IPv4>/<prefix>`, { hint: "e.g. 10.4.0.20/24" });
  if (!IPV4.test(m[2]!)) throw new BootParamError(`zgrid.net: gateway '${m[2]}' is not an IPv4 address`);
  if (m[3] !== undefined && !IPV4.test(m[3])) throw new BootParamError(`zgrid.net: dns '${m[3]}' is not an IPv4 address`);
  return { mode: "static", address: m[1]!, gateway: m[2]!, ...(m[3] ? { dns: m[3] } : {}) };
}

/** Parses a kernel command line (as in /proc/cmdline). Unknown `zgrid.*` words are refused. */
export function parseBootParams(cmdline: string): BootParams {
  if (cmdline.length > MAX_CMDLINE) throw new BootParamError(`kernel line of ${cmdline.length} bytes (max ${MAX_CMDLINE})`);
  const kv = new Map<string, string>();
  for (const word of cmdline.trim().split(/\s+/)) {
    if (!word.startsWith("zgrid.")) continue;
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    if (!["zgrid.farm", "zgrid.rpc", "zgrid.hub", "zgrid.keys", "zgrid.release", "zgrid.net", "zgrid.contracts"].includes(key)) {
      throw new BootParamError(`unknown boot parameter ${key.slice(0, 40)}`, { hint: "known: zgrid.farm, zgrid.rpc, zgrid.hub, zgrid.keys, zgrid.release, zgrid.net, zgrid.contracts" });
    }
    if (kv.has(key)) throw new BootParamError(`${key} given twice on the kernel line`);
    kv.set(key, eq < 0 ? "" : word.slice(eq + 1));
  }
  const farm = kv.get("zgrid.farm");
  if (!farm || !/^[1-9]\d{0,9}$/.test(farm)) throw new BootParamError(farm ? `zgrid.farm=${farm.slice(0, 20)} is not a farm id` : "zgrid.farm is missing from the kernel line", { hint: "add zgrid.farm=<id> (`zgrid farm create` prints it)" });
  const rpcUrl = httpUrl("zgrid.rpc", kv.get("zgrid.rpc"));
  const hubUrl = httpUrl("zgrid.hub", kv.get("zgrid.hub"));
  const keys = (kv.get("zgrid.keys") ?? "").split(",").filter(Boolean);
  if (keys.length === 0) throw new BootParamError("zgrid.keys is missing: a node boots only releases signed by a key it was given", { hint: "add zgrid.keys=<release signer address>" });
  if (keys.length > MAX_KEYS) throw new BootParamError(`zgrid.keys lists ${keys.length} keys (max ${MAX_KEYS})`);
  const release = kv.get("zgrid.release");
  if (!release) throw new BootParamError("zgrid.release is missing from the kernel line", { hint: "add zgrid.release=<owner>/<name>.fl (a release flist on the hub)" });
  let releaseUrl: string;
  if (/^https?:\/\//.test(release)) releaseUrl = httpUrl("zgrid.release", release);
  else if (/^0x[0-9a-fA-F]{40}\/[A-Za-z0-9_.-]{1,64}\.fl$/.test(release)) releaseUrl = `${hubUrl}/flists/${release}`;
  else throw new BootParamError(`zgrid.release=${release.slice(0, 100)} is neither <owner>/<name>.fl nor an http(s) URL`);
  const params: BootParams = { farmId: Number(farm), rpcUrl, hubUrl, releaseKeys: keys.map((k) => address("zgrid.keys", k)), releaseUrl, net: parseNetMode(kv.get("zgrid.net")) };
  const contracts = kv.get("zgrid.contracts");
  if (contracts !== undefined) {
    const a = contracts.split(",");
    if (a.length !== 4) throw new BootParamError("zgrid.contracts needs 4 addresses: token,registry,contracts,governance");
    params.contracts = { token: address("zgrid.contracts", a[0]!), registry: address("zgrid.contracts", a[1]!), contracts: address("zgrid.contracts", a[2]!), governance: address("zgrid.contracts", a[3]!) };
  }
  return params;
}

/** The kernel-line words for `params` (what the boot server puts in the iPXE script and the ISO). */
export function formatBootParams(params: BootParams, releaseName: string): string {
  const words = [`zgrid.farm=${params.farmId}`, `zgrid.rpc=${params.rpcUrl}`, `zgrid.hub=${params.hubUrl}`, `zgrid.keys=${params.releaseKeys.join(",")}`, `zgrid.release=${releaseName}`];
  words.push(params.net.mode === "dhcp" ? "zgrid.net=dhcp" : `zgrid.net=static:${params.net.address},${params.net.gateway}${params.net.dns ? `,${params.net.dns}` : ""}`);
  if (params.contracts) words.push(`zgrid.contracts=${params.contracts.token},${params.contracts.registry},${params.contracts.contracts},${params.contracts.governance}`);
  return words.join(" ");
}
