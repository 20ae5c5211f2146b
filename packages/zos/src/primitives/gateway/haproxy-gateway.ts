/**
 * The node's gateway proxy: one HAProxy process (a real, well-kept proxy) serving every gateway
 * workload of the node: HTTP reverse proxy by Host header on `httpPort`, TLS passthrough by SNI on
 * `httpsPort`. Backends on a private network are reached from inside that network's namespace
 * (HAProxy's per-server `namespace`). Each change rewrites the config and soft-reloads HAProxy
 * (`-sf`: open connections finish on the old process); with no routes left HAProxy is stopped.
 * HAProxy daemonizes, so it outlives the node daemon. The routes are kept in `routes.json` beside
 * the config, so a restarted daemon knows what the running HAProxy serves: it can remove a gateway
 * an earlier daemon set up (cancelled while the daemon was down, or killed before it recorded it),
 * and adopting one gateway never drops the others' routes.
 *
 * @example
 * ```ts
 * const gw = new HaproxyGateway({ dir: "/var/lib/zos/gateway", httpPort: 80, httpsPort: 443 });
 * await gw.set("7-12-web", { fqdn: "web.gw1.example", backends: ["http://10.20.2.5:80"], tlsPassthrough: false, namespace: "n-5f1c9a2e" });
 * await gw.remove("7-12-web");
 * ```
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHost } from "../../hypervisor/host-command.ts";

export interface GatewayRoute {
  fqdn: string;
  backends: string[];
  tlsPassthrough: boolean;
  /** Network namespace the backends are reached from (private network backends). */
  namespace?: string;
}

export class HaproxyGateway {
  readonly #dir: string;
  readonly #httpPort: number;
  readonly #httpsPort: number;
  readonly #routes = new Map<string, GatewayRoute>();
  #chain: Promise<void> = Promise.resolve();

  readonly #netnsDir: string;

  readonly #limits: Partial<GatewayLimits> | undefined;

  constructor(o: { dir: string; httpPort: number; httpsPort: number; netnsDir?: string; limits?: Partial<GatewayLimits> }) {
    this.#dir = o.dir;
    this.#limits = o.limits;
    this.#netnsDir = o.netnsDir ?? "/run/netns";
    this.#httpPort = o.httpPort;
    this.#httpsPort = o.httpsPort;
    for (const [id, r] of readRoutes(join(o.dir, "routes.json"))) this.#routes.set(id, r);
  }

  /** True when the gateway `id` has a route (also one an earlier daemon set up). */
  has(id: string): boolean {
    return this.#routes.has(id);
  }

  /** True when HAProxy runs (false also when it has nothing to serve). */
  running(): boolean {
    return this.#pid() !== undefined;
  }

  /** The workload id serving `fqdn`, if any. */
  owner(fqdn: string): string | undefined {
    for (const [id, r] of this.#routes) if (r.fqdn === fqdn.toLowerCase()) return id;
    return undefined;
  }

  set(id: string, route: GatewayRoute): Promise<void> {
    this.#routes.set(id, { ...route, fqdn: route.fqdn.toLowerCase() });
    return this.#apply();
  }

  remove(id: string): Promise<void> {
    if (!this.#routes.delete(id)) return Promise.resolve();
    return this.#apply();
  }

  /** Stops HAProxy (the node is shutting its gateway down). */
  async stopProxy(): Promise<void> {
    const pid = this.#pid();
    if (pid) process.kill(pid, "SIGTERM");
    rmSync(join(this.#dir, "haproxy.pid"), { force: true });
  }

  #pid(): number | undefined {
    const file = join(this.#dir, "haproxy.pid");
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").trim().split("\n")[0]);
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  #apply(): Promise<void> {
    const run = this.#chain.then(async () => {
      mkdirSync(this.#dir, { recursive: true });
      const routesFile = join(this.#dir, "routes.json");
      writeFileSync(`${routesFile}.tmp`, JSON.stringify([...this.#routes]));
      renameSync(`${routesFile}.tmp`, routesFile);
      if (this.#routes.size === 0) return this.stopProxy();
      const cfg = join(this.#dir, "haproxy.cfg");
      writeFileSync(cfg, this.config());
      await runHost("haproxy", ["-c", "-q", "-f", cfg]);
      const old = this.#pid();
      await runHost("haproxy", ["-D", "-p", join(this.#dir, "haproxy.pid"), "-f", cfg, ...(old ? ["-sf", String(old)] : [])]);
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The HAProxy configuration for the current routes (renderHaproxyConfig). */
  config(): string {
    return renderHaproxyConfig([...this.#routes], { httpPort: this.#httpPort, httpsPort: this.#httpsPort, namespaceExists: (ns) => this.#namespaceExists(ns), ...(this.#limits ? { limits: this.#limits } : {}) });
  }

  #namespaceExists(ns: string): boolean {
    return existsSync(join(this.#netnsDir, ns));
  }
}

/** The routes an earlier daemon recorded; what does not look like a route is dropped. */
function readRoutes(file: string): Array<[string, GatewayRoute]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter((e): e is [string, GatewayRoute] => {
    if (!Array.isArray(e) || typeof e[0] !== "string") return false;
    const r = e[1] as Partial<GatewayRoute> | null;
    return !!r && typeof r.fqdn === "string" && Array.isArray(r.backends) && r.backends.every((b) => typeof b === "string") && typeof r.tlsPassthrough === "boolean" && (r.namespace === undefined || typeof r.namespace === "string");
  });
}

/**
 * The HAProxy configuration for `routes` ([workload id, route]). A route whose network namespace is gone
 * (its network's deployment was cancelled) gets no servers: only that gateway answers 503,
 * the config stays valid for every other one.
 */
export function renderHaproxyConfig(routes: Array<[string, GatewayRoute]>, o: { httpPort: number; httpsPort: number; namespaceExists(ns: string): boolean; limits?: Partial<GatewayLimits> }): string {
  const l = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
  const s = (ms: number) => `${Math.max(1, Math.round(ms))}ms`;
  const live = (r: GatewayRoute) => !r.namespace || o.namespaceExists(r.namespace);
  const name = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, "_");
  const http = routes.filter(([, r]) => !r.tlsPassthrough);
  const tls = routes.filter(([, r]) => r.tlsPassthrough);
  const out = [
    "global", "  maxconn 4096", "",
    // Hostile backends and clients are bounded: a backend that never answers or stops sending is
    // cut after `serverTimeoutMs` of silence (504), a client slow to send its request head after
    // `requestTimeoutMs` (408), and each tenant's backend holds at most `connectionsPerServer`
    // connections (the rest wait `queueTimeoutMs`, then 503): one tenant's slow backend can never
    // take the proxy's connections from the others. Headers over HAProxy's 16 KiB buffer: 502.
    "defaults", "  timeout connect 5s", `  timeout client ${s(l.clientTimeoutMs)}`, `  timeout server ${s(l.serverTimeoutMs)}`, "  timeout tunnel 1h",
    `  timeout http-request ${s(l.requestTimeoutMs)}`, `  timeout http-keep-alive ${s(l.requestTimeoutMs)}`, `  timeout queue ${s(l.queueTimeoutMs)}`,
    `  default-server maxconn ${l.connectionsPerServer}`, "",
    "frontend http", `  bind :${o.httpPort}`, "  mode http", "  option forwardfor",
    ...http.map(([id, r]) => `  use_backend h_${name(id)} if { hdr(host),field(1,:),lower -m str ${r.fqdn} }`),
    "  default_backend h__none", "",
    "backend h__none", "  mode http", "  http-request return status 404 content-type text/plain string \"no gateway for this host\"", "",
  ];
  for (const [id, r] of http) {
    out.push(`backend h_${name(id)}`, "  mode http", "  balance roundrobin");
    // Several backends (replicas): a dead one is taken out by health checks within ~2 s, and a
    // request that could not connect meanwhile is retried on another one (no failed request).
    const several = live(r) && r.backends.length > 1;
    if (several) out.push("  option redispatch", "  retries 3", "  retry-on conn-failure empty-response", "  timeout connect 1s");
    if (live(r)) r.backends.forEach((b, i) => {
      const u = new URL(b);
      const ssl = u.protocol === "https:" ? " ssl verify none" : "";
      out.push(`  server s${i} ${serverAddress(u.hostname, u.port || (u.protocol === "https:" ? "443" : "80"))}${ssl}${r.namespace ? ` namespace ${r.namespace}` : ""}${several ? " check inter 1s fall 2 rise 2" : ""}`);
    });
    out.push("");
  }
  if (tls.length) {
    out.push("frontend tls", `  bind :${o.httpsPort}`, "  mode tcp", "  tcp-request inspect-delay 5s", "  tcp-request content accept if { req_ssl_hello_type 1 }");
    for (const [id, r] of tls) out.push(`  use_backend t_${name(id)} if { req_ssl_sni -i ${r.fqdn} }`);
    out.push("");
    for (const [id, r] of tls) {
      out.push(`backend t_${name(id)}`, "  mode tcp", "  balance roundrobin");
      if (live(r)) r.backends.forEach((b, i) => {
        const m = /^\[?(.*?)\]?:(\d+)$/.exec(b);
        if (m) out.push(`  server s${i} ${serverAddress(m[1]!, m[2]!)}${r.namespace ? ` namespace ${r.namespace}` : ""}`);
      });
      out.push("");
    }
  }
  return `${out.join("\n")}\n`;
}

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

/** `addr:port` as HAProxy reads it (IPv6 with the ipv6@ prefix; brackets removed). */
function serverAddress(host: string, port: string): string {
  const h = host.replace(/^\[|\]$/g, "");
  return h.includes(":") ? `ipv6@${h}:${port}` : `${h}:${port}`;
}
