/**
 * Backend rules shared by both gateway types (REFERENCE.md): `http://IP:port` for HTTP proxying,
 * `IP:port` with TLS passthrough; never loopback, unspecified or link-local (a gateway must not
 * reach into the node itself).
 */
import { z } from "zod";
import { isIPv4, isIPv6, isLocalAddress } from "../net/ip.ts";
import type { ReportIssue } from "./workload-type.ts";

export const backendsSchema = z.array(z.string().max(512)).max(64);

/** Splits "ip:port" / "[ipv6]:port"; undefined when malformed. */
function hostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|((?:\d{1,3}\.){3}\d{1,3})):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? "";
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined ? !isIPv6(host) : !isIPv4(host)) return undefined;
  return { host, port };
}

export function validateBackends(backends: readonly string[], passthrough: boolean, report: ReportIssue): void {
  if (backends.length === 0) report("backends", backends, "at least one backend");
  backends.forEach((b, i) => {
    const field = `backends.${i}`;
    const expected = passthrough ? "IP:port (TLS passthrough)" : "http://IP:port or https://IP:port";
    let target = b;
    if (!passthrough) {
      const m = /^https?:\/\/(.+?)\/?$/.exec(b);
      if (!m) return report(field, b, expected);
      target = m[1] ?? "";
    }
    const hp = hostPort(target);
    if (!hp) return report(field, b, expected);
    if (isLocalAddress(hp.host)) report(field, b, "a backend that is not loopback, unspecified, link-local or multicast (also inside IPv6, e.g. ::ffff:127.0.0.1)");
  });
}
