/**
 * Strict IP and CIDR parsing for validation (ipaddr.js underneath). Strict means: canonical
 * dotted-quad IPv4 only (no "010.1.1.1", no "10.1"), prefix lengths in range, and for networks,
 * no host bits set ("10.20.1.5/24" is not a network).
 *
 * @example
 * ```ts
 * parseCidr("10.20.0.0/16");            // { kind: "ipv4", address: "10.20.0.0", prefix: 16 }
 * cidrContains(parseCidr("10.20.0.0/16")!, "10.20.3.4"); // true
 * ```
 */
import ipaddr from "ipaddr.js";

export interface Cidr {
  kind: "ipv4" | "ipv6";
  address: string;
  prefix: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a canonical dotted-quad IPv4 address. */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** True for a valid IPv6 address (any standard textual form, no zone). */
export function isIPv6(text: string): boolean {
  return !text.includes("%") && ipaddr.IPv6.isValid(text) && text.includes(":");
}

/** Parses "a.b.c.d/n" or an IPv6 CIDR; undefined when malformed. Host bits may be set. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) return undefined;
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (isIPv4(addr)) return prefix <= 32 ? { kind: "ipv4", address: addr, prefix } : undefined;
  if (isIPv6(addr)) return prefix <= 128 ? { kind: "ipv6", address: ipaddr.IPv6.parse(addr).toNormalizedString(), prefix } : undefined;
  return undefined;
}

/** Parses a CIDR that names a network: host bits must be zero. */
export function parseNetwork(text: string): Cidr | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  return networkAddress(c) === normalize(c.kind, c.address) ? c : undefined;
}

/** The network address of a CIDR (host bits cleared). */
export function networkAddress(c: Cidr): string {
  const bytes = ipaddr.parse(c.address).toByteArray();
  const masked = bytes.map((b, i) => {
    const bitsLeft = c.prefix - i * 8;
    if (bitsLeft >= 8) return b;
    if (bitsLeft <= 0) return 0;
    return b & (0xff << (8 - bitsLeft)) & 0xff;
  });
  return ipaddr.fromByteArray(masked).toString();
}

/** True when `ip` lies inside the CIDR. */
export function cidrContains(c: Cidr, ip: string): boolean {
  try {
    const addr = ipaddr.parse(ip);
    const net = ipaddr.parse(c.address);
    if (addr.kind() !== net.kind()) return false;
    return addr.match(net, c.prefix);
  } catch {
    return false;
  }
}

/** True when network `inner` lies entirely inside network `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.kind === outer.kind && inner.prefix >= outer.prefix && cidrContains(outer, inner.address);
}

/** True when two networks share any address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrWithin(a, b) || cidrWithin(b, a);
}

/** True for loopback, unspecified or link-local addresses (not allowed as gateway backends). */
export function isLocalAddress(ip: string): boolean {
  try {
    let a = ipaddr.parse(ip);
    // IPv4 inside IPv6 (::ffff:127.0.0.1, ::127.0.0.1) is judged by the IPv4 address it carries
    if (a.kind() === "ipv6") {
      const v6 = a as ipaddr.IPv6;
      const p = v6.parts;
      if (v6.isIPv4MappedAddress()) a = v6.toIPv4Address();
      else if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)) a = ipaddr.IPv4.parse(`${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}`);
    }
    const range = a.range();
    return range === "loopback" || range === "unspecified" || range === "linkLocal" || range === "multicast" || range === "broadcast";
  } catch {
    return false;
  }
}

function normalize(kind: Cidr["kind"], address: string): string {
  return kind === "ipv6" ? ipaddr.IPv6.parse(address).toString() : address;
}
