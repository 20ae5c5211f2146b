/**
 * The local grid's ports and underlay addresses, picked on first start and kept in
 * `<dataDir>/ports.json` (flist URLs name the hub, so they must not move across restarts).
 *
 * The ports are one block (chain, hub, explorer, then one metrics port per node) from below the
 * kernel's ephemeral range (`freePortBlock`: a port picked with "listen on 0" was taken by another
 * socket before the grid bound it; CI saw `EADDRINUSE 10.222.0.1:39321`). The underlay's
 * 10.<o>/16 is checked against the addresses already on the machine, so two grids never share a
 * subnet.
 *
 * @example
 * ```ts
 * const p = await stablePorts("/var/lib/zgrid", true);
 * const net = underlayNames("/var/lib/zgrid", p.octet); // { bridge: "zg1a2b", hostAddress: "10.214.0.1", … }
 * ```
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { freePortBlock } from "@zgrid/types/free-port";

/** Ports (and the mode, and the underlay's second octet) of one local grid. */
export type Ports = { chain: number; hub: number; explorer: number; metrics: number; underlay: boolean; octet: number };

/** Metrics ports kept per grid (node i uses metrics + i): more than `zgrid up --nodes` allows. */
export const METRICS_PORTS = 16;

/** The second octets of the 10.x.0.1 addresses already on this machine's interfaces. */
function octetsInUse(): Set<number> {
  const used = new Set<number>();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const m = /^10\.(\d+)\./.exec(a.address);
      if (a.family === "IPv4" && m) used.add(Number(m[1]));
    }
  }
  return used;
}

/** The data dir's preferred octet (200..239 from its hash), or the next one nobody on this machine uses. */
function pickOctet(dataDir: string): number {
  const preferred = hashOctet(dataDir);
  const used = octetsInUse();
  for (let i = 0; i < 40; i++) {
    const o = 200 + ((preferred - 200 + i) % 40);
    if (!used.has(o)) return o;
  }
  throw new Error("all 40 underlay subnets 10.200-239.0.0/16 are in use on this machine: stop a local grid (`zgrid down`) first");
}

function hashOctet(dataDir: string): number {
  const h = createHash("sha256").update(dataDir).digest("hex");
  return 200 + (parseInt(h.slice(0, 2), 16) % 40);
}

/** The grid's ports: the saved ones, or (first start) a fresh block, saved before use. */
export async function stablePorts(dataDir: string, underlay: boolean): Promise<Ports> {
  const path = join(dataDir, "ports.json");
  const saved = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Partial<Ports>) : undefined;
  if (saved?.chain && saved.hub && saved.explorer && saved.metrics) {
    // files written before the octet was kept: it was the hash's
    return { underlay: false, octet: hashOctet(dataDir), ...saved } as Ports;
  }
  const base = await freePortBlock(3 + METRICS_PORTS);
  const ports: Ports = { chain: base, hub: base + 1, explorer: base + 2, metrics: base + 3, underlay, octet: pickOctet(dataDir) };
  writeFileSync(path, JSON.stringify(ports));
  return ports;
}

/**
 * Names of a data dir's underlay: bridge `zg<tag>`, host 10.<o>.0.1/16, node hosts `zh-<tag>n<i>`
 * at 10.<o>.0.11+, farm IPs 185.<o>.0.10-12, the farm's IPv6 range fd86:<o>::/64 (a ULA; nodes at
 * ::11+, gateway ::1). `octet` comes from `stablePorts` (checked unused on this machine).
 */
export function underlayNames(dataDir: string, octet: number): { tag: string; bridge: string; prefix: string; hostAddress: string; publicPrefix: string; publicPrefix6: string } {
  const h = createHash("sha256").update(dataDir).digest("hex");
  const o = octet;
  return { tag: h.slice(2, 6), bridge: `zg${h.slice(2, 6)}`, prefix: `10.${o}`, hostAddress: `10.${o}.0.1`, publicPrefix: `185.${o}.0`, publicPrefix6: `fd86:${o.toString(16)}::` };
}
