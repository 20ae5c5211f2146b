/**
 * The node gateway's HAProxy configuration. Each gateway route is one backend whose servers are
 * fixed *slots* (gateway-slots.ts): a slot holds one backend address or is a disabled placeholder.
 * A change of backends that fits the slots is applied through HAProxy's runtime API (no reload,
 * client connections untouched); the file always says the same, so a restarted HAProxy serves the
 * same. `shape` renders the config without what the runtime API can change (addresses, enabled):
 * the same shape = no reload needed.
 *
 * @example
 * ```ts
 * const cfg = renderHaproxyConfig([["7-12-web", { fqdn: "web.gw1.example", backends: ["http://10.20.2.5:80"], tlsPassthrough: false }]],
 *   { httpPort: 80, httpsPort: 443, namespaceExists: () => true, socket: "/var/lib/zos/gateway/haproxy.sock" });
 * ```
 */
import { initialSlots, type Slot } from "./gateway-slots.ts";

export interface GatewayRoute {
  fqdn: string;
  backends: string[];
  tlsPassthrough: boolean;
  /** Network namespace the backends are reached from (private network backends). */
  namespace?: string;
}

/** A route with its server slots (none given: laid out fresh from its backends). */
export type SlottedRoute = GatewayRoute & { slots?: Slot[] };

/** Bounds of the gateway's proxy against hostile backends and clients (renderHaproxyConfig). */
export interface GatewayLimits {
  /** Silence from a backend after which the request fails (504), ms. */
  serverTimeoutMs: number;
  /** Silence from a client, ms. */
  clientTimeoutMs: number;
  /** Time a client has to send its whole request head (and idle keep-alive), ms. */
  requestTimeoutMs: number;
  /** Connections one backend server of a gateway may hold at once. */
  connectionsPerServer: number;
  /** How long a request waits for a free connection of its backend before a 503, ms. */
  queueTimeoutMs: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = { serverTimeoutMs: 60_000, clientTimeoutMs: 60_000, requestTimeoutMs: 10_000, connectionsPerServer: 256, queueTimeoutMs: 5_000 };

export interface RenderOptions {
  httpPort: number;
  httpsPort: number;
  namespaceExists(ns: string): boolean;
  limits?: Partial<GatewayLimits>;
  /** HAProxy's admin socket (runtime API); none: no socket. */
  socket?: string;
  /** Leave out what the runtime API changes (slot addresses, disabled): the config's shape. */
  shape?: boolean;
  /**
   * With `shape`: which namespace instance a name is now (its inode). HAProxy holds the namespace
   * it opened at load, so a namespace deleted and made again under the same name (a network
   * cancelled and deployed again) is a layout change: HAProxy reloads into the new one.
   */
  namespaceId?(ns: string): string;
}

/** Address and port of one backend as HAProxy and its runtime API take them. */
export interface ServerAddress {
  host: string;
  port: string;
}

/** The HAProxy backend name of a route. */
export function backendName(id: string, tlsPassthrough: boolean): string {
  return `${tlsPassthrough ? "t" : "h"}_${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Where a backend string points (http(s) URL, or host:port for TLS passthrough); undefined if unparsable. */
export function parseBackend(b: string, tlsPassthrough: boolean): ServerAddress | undefined {
  if (tlsPassthrough) {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(b);
    return m ? { host: m[1]!, port: m[2]! } : undefined;
  }
  try {
    const u = new URL(b);
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port || (u.protocol === "https:" ? "443" : "80") };
  } catch {
    return undefined;
  }
}

/**
 * The HAProxy configuration for `routes` ([workload id, route]). A route whose network namespace is gone
 * (its network's deployment was cancelled) gets no servers: only that gateway answers 503,
 * the config stays valid for every other one.
 */
export function renderHaproxyConfig(routes: Array<[string, SlottedRoute]>, o: RenderOptions): string {
  const l = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
  const s = (ms: number) => `${Math.max(1, Math.round(ms))}ms`;
  const live = (r: GatewayRoute) => !r.namespace || o.namespaceExists(r.namespace);
  const http = routes.filter(([, r]) => !r.tlsPassthrough);
  const tls = routes.filter(([, r]) => r.tlsPassthrough);
  const out = [
    "global", "  maxconn 4096", ...(o.socket ? [`  stats socket ${o.socket} mode 600 level admin`] : []), "",
    // Hostile backends and clients are bounded: a backend that never answers or stops sending is
    // cut after `serverTimeoutMs` of silence (504), a client slow to send its request head after
    // `requestTimeoutMs` (408), and each tenant's backend holds at most `connectionsPerServer`
    // connections (the rest wait `queueTimeoutMs`, then 503): one tenant's slow backend can never
    // take the proxy's connections from the others. Headers over HAProxy's 16 KiB buffer: 502.
    "defaults", "  timeout connect 5s", `  timeout client ${s(l.clientTimeoutMs)}`, `  timeout server ${s(l.serverTimeoutMs)}`, "  timeout tunnel 1h",
    `  timeout http-request ${s(l.requestTimeoutMs)}`, `  timeout http-keep-alive ${s(l.requestTimeoutMs)}`, `  timeout queue ${s(l.queueTimeoutMs)}`,
    `  default-server maxconn ${l.connectionsPerServer}`, "",
    "frontend http", `  bind :${o.httpPort}`, "  mode http", "  option forwardfor",
    ...http.map(([id, r]) => `  use_backend ${backendName(id, false)} if { hdr(host),field(1,:),lower -m str ${r.fqdn} }`),
    "  default_backend h__none", "",
    "backend h__none", "  mode http", "  http-request return status 404 content-type text/plain string \"no gateway for this host\"", "",
  ];
  // Every slot is health-checked: a dead backend is taken out within ~2 s, and (HTTP) a request
  // that could not connect meanwhile is retried on another one (no failed request).
  const servers = (r: SlottedRoute) => {
    if (!live(r)) return [];
    const slots = r.slots ?? initialSlots(r.backends, r.tlsPassthrough);
    return slots.map((slot, i) => {
      const a = slot.backend === null ? undefined : parseBackend(slot.backend, r.tlsPassthrough);
      const addr = o.shape ? "-" : a ? serverAddress(a) : "0.0.0.0:1";
      const off = !o.shape && !a ? " disabled" : "";
      return `  server s${i} ${addr}${slot.ssl ? " ssl verify none" : ""}${r.namespace ? ` namespace ${r.namespace}` : ""}${off} check inter 1s fall 2 rise 2`;
    });
  };
  const stamp = (r: SlottedRoute) => (o.shape && r.namespace && live(r) && o.namespaceId ? [`  # netns ${r.namespace} ${o.namespaceId(r.namespace)}`] : []);
  for (const [id, r] of http) {
    out.push(`backend ${backendName(id, false)}`, "  mode http", "  balance roundrobin", ...stamp(r));
    if (live(r)) out.push("  option redispatch", "  retries 3", "  retry-on conn-failure empty-response", "  timeout connect 1s");
    out.push(...servers(r), "");
  }
  if (tls.length) {
    out.push("frontend tls", `  bind :${o.httpsPort}`, "  mode tcp", "  tcp-request inspect-delay 5s", "  tcp-request content accept if { req_ssl_hello_type 1 }");
    for (const [id, r] of tls) out.push(`  use_backend ${backendName(id, true)} if { req_ssl_sni -i ${r.fqdn} }`);
    out.push("");
    for (const [id, r] of tls) out.push(`backend ${backendName(id, true)}`, "  mode tcp", "  balance roundrobin", ...stamp(r), ...servers(r), "");
  }
  return `${out.join("\n")}\n`;
}

/** `addr:port` as HAProxy reads it (IPv6 with the ipv6@ prefix). */
function serverAddress(a: ServerAddress): string {
  return a.host.includes(":") ? `ipv6@${a.host}:${a.port}` : `${a.host}:${a.port}`;
}
