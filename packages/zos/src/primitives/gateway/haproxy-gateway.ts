/**
 * The node's gateway proxy: one HAProxy process (a real, well-kept proxy) serving every gateway
 * workload of the node: HTTP reverse proxy by Host header on `httpPort`, TLS passthrough by SNI on
 * `httpsPort`. Backends on a private network are reached from inside that network's namespace
 * (HAProxy's per-server `namespace`).
 *
 * A change of a gateway's backends (a 3bot re-pointing it after a heal or during a rolling update)
 * is applied through HAProxy's runtime API on its admin socket: no reload, so no client connection
 * of any gateway is closed (a reload's old process closes idle keep-alive connections: requests
 * sent on one at that instant failed). Each route's servers are fixed slots (gateway-slots.ts);
 * the config file always describes the desired slots, and the layout HAProxy was last loaded with
 * is kept in `haproxy.shape`: only a layout change (a gateway added or removed, an FQDN, namespace
 * or TLS setting changed, more backends than slots, a network namespace made again under the
 * same name — HAProxy holds the one it opened) rewrites and soft-reloads (`-sf`: open
 * connections finish on the old process). With no routes left HAProxy is stopped.
 *
 * Crash-safe and level-based: the routes (with their slots) are written to `routes.json` before
 * HAProxy is touched; a set of the same route (the engine's adopt after a restart) compares the
 * running servers with the slots and changes what differs, so a daemon killed mid-change
 * converges. HAProxy daemonizes, so it outlives the node daemon; a restarted daemon can remove a
 * gateway an earlier one set up, and adopting one gateway never drops the others' routes.
 *
 * @example
 * ```ts
 * const gw = new HaproxyGateway({ dir: "/var/lib/zos/gateway", httpPort: 80, httpsPort: 443 });
 * await gw.set("7-12-web", { fqdn: "web.gw1.example", backends: ["http://10.20.2.5:80"], tlsPassthrough: false, namespace: "n-5f1c9a2e" });
 * await gw.set("7-12-web", { fqdn: "web.gw1.example", backends: ["http://10.20.3.5:80"], tlsPassthrough: false, namespace: "n-5f1c9a2e" }); // no reload
 * await gw.remove("7-12-web");
 * ```
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHost } from "../../hypervisor/host-command.ts";
import { backendName, renderHaproxyConfig, type GatewayLimits, type GatewayRoute } from "./haproxy-config.ts";
import { assignSlots, initialSlots, isSlots, type Slot } from "./gateway-slots.ts";
import { syncServers } from "./haproxy-runtime.ts";

export { DEFAULT_GATEWAY_LIMITS, renderHaproxyConfig, type GatewayLimits, type GatewayRoute } from "./haproxy-config.ts";

type RouteState = GatewayRoute & { slots: Slot[] };

/** How the gateway's changes were applied (for tests and logs). */
export interface GatewayApplyStats {
  /** HAProxy (re)started from the config file. */
  reloads: number;
  /** Server changes made through the runtime API (no reload). */
  runtimeChanges: number;
}

/** Longest admin socket path (a Unix socket path is at most 107 bytes). */
const MAX_SOCKET_PATH = 100;

export class HaproxyGateway {
  readonly #dir: string;
  readonly #httpPort: number;
  readonly #httpsPort: number;
  readonly #routes = new Map<string, RouteState>();
  #chain: Promise<void> = Promise.resolve();
  readonly #netnsDir: string;
  readonly #limits: Partial<GatewayLimits> | undefined;
  readonly #stats: GatewayApplyStats = { reloads: 0, runtimeChanges: 0 };

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

  /** Reloads and runtime changes made by this instance so far. */
  stats(): GatewayApplyStats {
    return { ...this.#stats };
  }

  /** Serves `route` as gateway `id`; a change of backends only is applied without a reload. */
  set(id: string, route: GatewayRoute): Promise<void> {
    const r = { ...route, fqdn: route.fqdn.toLowerCase(), backends: [...route.backends] };
    const old = this.#routes.get(id);
    const sameLayout = old && old.fqdn === r.fqdn && old.tlsPassthrough === r.tlsPassthrough && old.namespace === r.namespace;
    const slots = sameLayout ? assignSlots(old.slots, r.backends, r.tlsPassthrough) : initialSlots(r.backends, r.tlsPassthrough);
    this.#routes.set(id, { ...r, slots });
    return this.#apply(id);
  }

  remove(id: string): Promise<void> {
    if (!this.#routes.delete(id)) return Promise.resolve();
    return this.#apply(undefined);
  }

  /** Stops HAProxy (the node is shutting its gateway down). */
  async stopProxy(): Promise<void> {
    const pid = this.#pid();
    if (pid) process.kill(pid, "SIGTERM");
    rmSync(join(this.#dir, "haproxy.pid"), { force: true });
    rmSync(join(this.#dir, "haproxy.shape"), { force: true });
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

  #socket(): string {
    const socket = join(this.#dir, "haproxy.sock");
    if (socket.length > MAX_SOCKET_PATH) throw new Error(`the gateway directory ${this.#dir} is too long for HAProxy's admin socket (${socket.length} > ${MAX_SOCKET_PATH} characters): use a shorter data directory`);
    return socket;
  }

  /** Writes routes and config, then brings HAProxy there: runtime API for route `changed` when the layout is the same, else a reload. */
  #apply(changed: string | undefined): Promise<void> {
    const run = this.#chain.then(async () => {
      mkdirSync(this.#dir, { recursive: true });
      writeAtomic(join(this.#dir, "routes.json"), JSON.stringify([...this.#routes]));
      if (this.#routes.size === 0) return this.stopProxy();
      const socket = this.#socket();
      const cfg = join(this.#dir, "haproxy.cfg");
      writeAtomic(cfg, this.config());
      const shapeFile = join(this.#dir, "haproxy.shape");
      const shape = this.#render(true);
      const old = this.#pid();
      if (old && changed && readText(shapeFile) === shape) {
        const r = this.#routes.get(changed)!;
        if (r.namespace && !this.#namespaceExists(r.namespace)) return; // no servers while its network is gone
        const done = await syncServers(socket, backendName(changed, r.tlsPassthrough), r.slots, r.tlsPassthrough).catch(() => ({ ok: false, changes: 0 }));
        this.#stats.runtimeChanges += done.changes;
        if (done.ok) return;
      } else if (old && !changed && readText(shapeFile) === shape) return;
      await runHost("haproxy", ["-c", "-q", "-f", cfg]);
      await runHost("haproxy", ["-D", "-p", join(this.#dir, "haproxy.pid"), "-f", cfg, ...(old ? ["-sf", String(old)] : [])]);
      this.#stats.reloads++;
      writeAtomic(shapeFile, shape);
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The HAProxy configuration for the current routes (renderHaproxyConfig). */
  config(): string {
    return this.#render(false);
  }

  #render(shape: boolean): string {
    return renderHaproxyConfig([...this.#routes], {
      httpPort: this.#httpPort, httpsPort: this.#httpsPort, namespaceExists: (ns) => this.#namespaceExists(ns), socket: this.#socket(), shape,
      namespaceId: (ns) => String(statSync(join(this.#netnsDir, ns), { throwIfNoEntry: false })?.ino ?? "-"), ...(this.#limits ? { limits: this.#limits } : {}),
    });
  }

  #namespaceExists(ns: string): boolean {
    return existsSync(join(this.#netnsDir, ns));
  }
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The routes an earlier daemon recorded; what does not look like a route is dropped. */
function readRoutes(file: string): Array<[string, RouteState]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: Array<[string, RouteState]> = [];
  for (const e of raw) {
    if (!Array.isArray(e) || typeof e[0] !== "string") continue;
    const r = e[1] as Partial<RouteState> | null;
    const ok = !!r && typeof r.fqdn === "string" && Array.isArray(r.backends) && r.backends.length <= 1024 && r.backends.every((b) => typeof b === "string") && typeof r.tlsPassthrough === "boolean" && (r.namespace === undefined || typeof r.namespace === "string");
    if (!ok) continue;
    const route = r as GatewayRoute & { slots?: unknown };
    // slots must hold exactly the backends (else laid out fresh: one reload)
    const slots = isSlots(route.slots) && sameBackends(route.slots, route.backends) ? route.slots : initialSlots(route.backends, route.tlsPassthrough);
    out.push([e[0], { fqdn: route.fqdn, backends: route.backends, tlsPassthrough: route.tlsPassthrough, ...(route.namespace !== undefined ? { namespace: route.namespace } : {}), slots }]);
  }
  return out;
}

function sameBackends(slots: readonly Slot[], backends: readonly string[]): boolean {
  const a = slots.flatMap((s) => (s.backend === null ? [] : [s.backend])).sort();
  const b = [...backends].sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
