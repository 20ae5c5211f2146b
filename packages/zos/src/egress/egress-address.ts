/**
 * Parses the host part of a URL or `host:port` the way the OS resolver would read it, so no
 * encoding slips past the egress policy: dotted, decimal (`2130706433`), hex (`0x7f.1`), octal
 * (`0177.0.0.1`) and short (`127.1`) IPv4 forms, bracketed IPv6, and IPv6 forms that embed an
 * IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`), which are
 * judged by the IPv4 address they carry.
 *
 * @example
 * ```ts
 * parseIpLiteral("0x7f.1")?.toString();            // "127.0.0.1"
 * parseIpLiteral("[::ffff:127.0.0.1]")?.toString(); // "127.0.0.1" (the embedded IPv4)
 * parseIpLiteral("hub.example");                    // undefined: a name to resolve
 * ```
 */
import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** The address a literal names (IPv4-embedding IPv6 forms unwrapped), or undefined for a name. */
export function parseIpLiteral(host: string): IpAddress | undefined {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const bare = h.replace(/%.*$/, ""); // zone id (fe80::1%eth0)
  if (!ipaddr.isValid(bare)) return undefined;
  return unwrap(ipaddr.parse(bare));
}

/** An IPv6 address carrying an IPv4 one is that IPv4 address; others are returned unchanged. */
export function unwrap(a: IpAddress): IpAddress {
  if (a.kind() === "ipv4") return a;
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const p = v6.parts;
  const zeros96 = p.slice(0, 6).every((x) => x === 0);
  const nat64 = p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0);
  // ::a.b.c.d (deprecated compatible form), but not :: and ::1 themselves
  if ((zeros96 && (p[6] !== 0 || p[7]! > 1)) || nat64) {
    return ipaddr.IPv4.parse(`${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}`);
  }
  return v6;
}

/** `host` and `port` of a URL (ws, wss, http, https, redis) or of `host:port` / `[v6]:port`. */
export function hostPort(target: string): { host: string; port: number } {
  if (target.includes("://")) {
    const u = new URL(target);
    const defaults: Record<string, number> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443, "redis:": 6379 };
    return { host: u.hostname, port: u.port ? Number(u.port) : (defaults[u.protocol] ?? 0) };
  }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(target) ?? /^([^:]+):(\d+)$/.exec(target);
  if (!m) return { host: target, port: 0 };
  return { host: m[1]!, port: Number(m[2]) };
}
