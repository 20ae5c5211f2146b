/**
 * The node's zdb service: every zdb workload is a namespace here, each in its own directory
 * `<dir>/<name>/` (settings in namespace.json, data in data.log). It answers RESP on:
 * - a TCP listener on the node's own address (the underlay, and so the public side): connections
 *   carry no twin, so private namespaces need their password there;
 * - one Unix socket per twin network (`listenPrivate`): a forwarder inside that network's
 *   namespace (zdb-forwarder.ts) relays to it, and connections carry the owner twin.
 * Namespaces found on disk are served again at start (a restarted daemon loses nothing).
 *
 * @example
 * ```ts
 * const zdb = new ZdbService({ dir: "/var/lib/zos/zdb" });
 * await zdb.start({ host: "0.0.0.0", port: 9900 });
 * zdb.ensureNamespace({ name: "7-12-db", owner: 7, mode: "user", size: 1 << 30, password: "s3cret", public: false });
 * ```
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createLogger, type Logger } from "@zgrid/log";
import { serveResp, type RespLimits } from "./resp-connection.ts";
import { ZdbSession, type NamespaceRegistry, type NamespaceSettings, type Origin } from "./zdb-commands.ts";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./zdb-log.ts";
import { ZdbNamespace } from "./zdb-namespace.ts";

export interface ZdbServiceOptions {
  dir: string;
  limits?: Partial<RespLimits & { connectionsPerNamespace: number; connectionsPerListener: number }>;
  /** fdatasync before acknowledging a write (default true). */
  durable?: boolean;
  log?: Logger;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class ZdbService implements NamespaceRegistry {
  private readonly dir: string;
  private readonly durable: boolean;
  private readonly log: Logger;
  private readonly limits: RespLimits;
  private readonly perNamespace: number;
  private readonly perListener: number;
  private readonly spaces = new Map<string, { settings: NamespaceSettings; store: ZdbNamespace }>();
  private readonly attached = new Map<string, number>();
  private readonly sessions = new Set<{ session: ZdbSession; socket: Socket }>();
  private readonly servers = new Map<string, Server>();

  constructor(o: ZdbServiceOptions) {
    this.dir = o.dir;
    this.durable = o.durable ?? true;
    this.log = o.log ?? createLogger("zos.zdb");
    this.limits = {
      maxArgs: o.limits?.maxArgs ?? 64,
      maxPendingBytes: o.limits?.maxPendingBytes ?? MAX_VALUE_BYTES + MAX_KEY_BYTES + 1024,
      maxQueued: o.limits?.maxQueued ?? 256,
      idleMs: o.limits?.idleMs ?? 300_000,
    };
    this.perNamespace = o.limits?.connectionsPerNamespace ?? 64;
    this.perListener = o.limits?.connectionsPerListener ?? 1024;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      const file = join(this.dir, name, "namespace.json");
      if (!NAME.test(name) || !existsSync(file)) continue;
      try {
        this.openNamespace(JSON.parse(readFileSync(file, "utf8")) as NamespaceSettings);
      } catch (e) {
        this.log.error({ err: e, namespace: name }, "zdb namespace could not be opened");
      }
    }
  }

  private openNamespace(s: NamespaceSettings): void {
    const store = ZdbNamespace.open(join(this.dir, s.name), { name: s.name, mode: s.mode, sizeLimit: s.size, durable: this.durable });
    if (store.recovered.truncatedBytes) this.log.warn({ namespace: s.name, bytes: store.recovered.truncatedBytes }, "zdb: torn tail truncated");
    this.spaces.set(s.name, { settings: s, store });
  }

  /** TCP listener on the node's own address; resolves with the bound port. */
  async start(listen: { host: string; port: number }): Promise<number> {
    const server = await this.listen({}, (srv) => srv.listen(listen.port, listen.host));
    this.servers.set("tcp", server);
    const addr = server.address();
    return typeof addr === "object" && addr ? addr.port : listen.port;
  }

  /** A Unix socket whose connections come from `twin`'s private network (idempotent). */
  async listenPrivate(socketPath: string, twin: number): Promise<void> {
    if (this.servers.has(socketPath)) return;
    if (existsSync(socketPath)) unlinkSync(socketPath);
    this.servers.set(socketPath, await this.listen({ twin }, (srv) => srv.listen(socketPath)));
  }

  async closePrivate(socketPath: string): Promise<void> {
    const srv = this.servers.get(socketPath);
    this.servers.delete(socketPath);
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
    rmSync(socketPath, { force: true });
  }

  private listen(origin: Origin, bind: (s: Server) => void): Promise<Server> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const session = new ZdbSession(this, origin);
      const entry = { session, socket };
      this.sessions.add(entry);
      serveResp(socket, this.limits, (args) => session.run(args), () => {
        session.close();
        this.sessions.delete(entry);
      });
    });
    server.maxConnections = this.perListener;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.once("listening", () => {
        server.off("error", reject);
        server.on("error", (e) => this.log.warn({ err: e }, "zdb listener error"));
        resolve(server);
      });
      bind(server);
    });
  }

  /** Creates the namespace, or updates size/password/public of an existing one (mode is fixed). */
  ensureNamespace(s: NamespaceSettings): void {
    if (!NAME.test(s.name)) throw new Error(`invalid zdb namespace name ${JSON.stringify(s.name)}`);
    const cur = this.spaces.get(s.name);
    if (cur && cur.settings.mode !== s.mode) throw new Error(`zdb mode cannot change from ${cur.settings.mode} to ${s.mode}: create a new zdb workload`);
    const nsDir = join(this.dir, s.name);
    mkdirSync(nsDir, { recursive: true, mode: 0o700 });
    const file = join(nsDir, "namespace.json");
    writeFileSync(`${file}.tmp`, JSON.stringify(s), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    if (cur) {
      cur.settings = s;
      cur.store.sizeLimit = s.size;
    } else {
      this.openNamespace(s);
    }
  }

  /** Closes the namespace, drops its connections and deletes its data. */
  async removeNamespace(name: string): Promise<void> {
    if (!NAME.test(name)) return;
    const ns = this.spaces.get(name);
    this.spaces.delete(name);
    for (const e of this.sessions) if (e.session.selectedName === name) e.socket.destroy();
    if (ns) await ns.store.close();
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  lookup(name: string) {
    return this.spaces.get(name);
  }

  names(): string[] {
    return [...this.spaces.keys()];
  }

  attach(name: string): boolean {
    const n = this.attached.get(name) ?? 0;
    if (n >= this.perNamespace) return false;
    this.attached.set(name, n + 1);
    return true;
  }

  detach(name: string): void {
    const n = (this.attached.get(name) ?? 1) - 1;
    if (n <= 0) this.attached.delete(name);
    else this.attached.set(name, n);
  }

  async stop(): Promise<void> {
    for (const e of this.sessions) e.socket.destroy();
    for (const key of [...this.servers.keys()]) {
      const srv = this.servers.get(key) as Server;
      this.servers.delete(key);
      await new Promise<void>((r) => srv.close(() => r()));
    }
    for (const ns of this.spaces.values()) await ns.store.close();
    this.spaces.clear();
  }
}
