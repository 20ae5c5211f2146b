/**
 * 0-db's command semantics over one connection: SELECT (with password), SET/GET/MGET/DEL/EXISTS,
 * SCAN, NSINFO, NSLIST, DBSIZE, PING, TIME, INFO, plus the few connection commands Redis clients
 * send on connect (COMMAND, CLIENT, QUIT). There is no `default` namespace and no admin: every
 * namespace is a zdb workload, so NSNEW/NSDEL/NSSET are refused with a hint.
 *
 * Access (who may SELECT what):
 * - the right password (when one is set): read-write;
 * - no password given, connection from the owner twin's private network, namespace without a
 *   password: read-write;
 * - otherwise a `public` namespace is read-only (0-db's public mode), a private one is refused.
 *
 * @example
 * ```ts
 * const session = new ZdbSession(registry, { twin: 7 });
 * await session.run([Buffer.from("SELECT"), Buffer.from("7-12-db")]); // +OK
 * ```
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { encode } from "./resp-connection.ts";
import { ZdbAccessError, ZdbRequestError } from "./zdb-errors.ts";
import type { ZdbNamespace } from "./zdb-namespace.ts";

export interface NamespaceSettings {
  name: string;
  /** Twin that deployed it. */
  owner: number;
  mode: "user" | "seq";
  size: number;
  password: string;
  public: boolean;
}

export interface NamespaceRegistry {
  lookup(name: string): { settings: NamespaceSettings; store: ZdbNamespace } | undefined;
  names(): string[];
  /** Counts a connection on a namespace; false when its connection limit is reached. */
  attach(name: string): boolean;
  detach(name: string): void;
}

/** Where a connection came from: a twin's private network (twin set) or the node's address. */
export interface Origin {
  twin?: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const samePassword = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export class ZdbSession {
  private selected: string | undefined;
  private writable = false;
  private readonly registry: NamespaceRegistry;
  private readonly origin: Origin;

  constructor(registry: NamespaceRegistry, origin: Origin) {
    this.registry = registry;
    this.origin = origin;
  }

  get selectedName(): string | undefined {
    return this.selected;
  }

  /** Releases the namespace slot this connection holds. */
  close(): void {
    if (this.selected) this.registry.detach(this.selected);
    this.selected = undefined;
  }

  private canSee(s: NamespaceSettings): boolean {
    return s.public || s.owner === this.origin.twin || s.name === this.selected;
  }

  private current(write: boolean): ZdbNamespace {
    const ns = this.selected ? this.registry.lookup(this.selected) : undefined;
    if (!ns) throw new ZdbRequestError("No namespace selected: SELECT <namespace> [password] first");
    if (write && !this.writable) throw new ZdbAccessError("Namespace is in read-only mode: SELECT it with its password to write");
    return ns.store;
  }

  private select(name: string, password: string | undefined): Buffer {
    const ns = this.registry.lookup(name);
    if (!ns) throw new ZdbRequestError("Namespace not found");
    const s = ns.settings;
    let writable: boolean;
    if (password !== undefined && s.password !== "") {
      if (!samePassword(password, s.password)) throw new ZdbAccessError("Access denied: wrong password for this namespace");
      writable = true;
    } else if (s.password === "" && s.owner === this.origin.twin) {
      writable = true;
    } else if (s.public) {
      writable = false;
    } else {
      throw new ZdbAccessError("Namespace protected and private: SELECT <namespace> <password>");
    }
    if (this.selected !== name) {
      if (!this.registry.attach(name)) throw new ZdbAccessError("too many connections on this namespace: close some and retry");
      if (this.selected) this.registry.detach(this.selected);
    }
    this.selected = name;
    this.writable = writable;
    return encode.simple("OK");
  }

  private nsinfo(name: string | undefined): Buffer {
    const ns = this.registry.lookup(name ?? this.selected ?? "");
    if (!ns || !this.canSee(ns.settings)) throw new ZdbRequestError("Namespace not found");
    const st = ns.store;
    const lines = [
      "# namespace",
      `name: ${ns.settings.name}`,
      `entries: ${st.entries}`,
      `public: ${ns.settings.public ? "yes" : "no"}`,
      `password: ${ns.settings.password ? "yes" : "no"}`,
      `data_size_bytes: ${st.dataSize}`,
      `data_size_mb: ${(st.dataSize / 1048576).toFixed(2)}`,
      `data_limits_bytes: ${st.sizeLimit}`,
      `index_size_bytes: ${st.entries * 24}`,
      `index_size_kb: ${((st.entries * 24) / 1024).toFixed(2)}`,
      `mode: ${st.mode === "seq" ? "sequential" : "userkey"}`,
      "worm: no",
      "locked: no",
      `data_disk_bytes: ${st.diskSize}`,
    ];
    return encode.bulk(`${lines.join("\n")}\n`);
  }

  /**
   * Runs one request: the reply at once (reads), or a promise of it (writes wait for their
   * fdatasync); throws (or rejects with) a ZdbError for a `-` reply.
   */
  run(args: Buffer[]): Buffer | Promise<Buffer> {
    const cmd = (args[0] as Buffer).toString("latin1").toUpperCase();
    const arg = (i: number): Buffer => {
      const a = args[i];
      if (a === undefined) throw new ZdbRequestError(`wrong number of arguments for '${cmd}'`);
      return a;
    };
    const arity = (min: number, max = min) => {
      if (args.length - 1 < min || args.length - 1 > max) throw new ZdbRequestError(`wrong number of arguments for '${cmd}'`);
    };
    switch (cmd) {
      case "PING": arity(0, 1); return args[1] ? encode.bulk(arg(1)) : encode.simple("PONG");
      case "QUIT": return encode.simple("OK");
      case "TIME": { const us = BigInt(Date.now()) * 1000n; return encode.array([encode.bulk(String(us / 1_000_000n)), encode.bulk(String(us % 1_000_000n))]); }
      case "COMMAND": return encode.array([]);
      case "CLIENT": return encode.simple("OK");
      case "INFO": return encode.bulk("# server\nserver_name: zgrid-zdb\nengine_revision: 0-db compatible\n");
      case "AUTH": throw new ZdbAccessError("no admin on this server: SELECT <namespace> <password> instead");
      case "NSNEW": case "NSDEL": case "NSSET": case "FLUSH":
        throw new ZdbAccessError("namespaces are zdb workloads: create or change them by deploying (zgrid zdb create)");
      case "SELECT": arity(1, 2); return this.select(arg(1).toString(), args[2]?.toString());
      case "NSINFO": arity(0, 1); return this.nsinfo(args[1]?.toString());
      case "NSLIST": arity(0); return encode.array(this.registry.names().filter((n) => { const ns = this.registry.lookup(n); return ns && this.canSee(ns.settings); }).map((n) => encode.bulk(n)));
      case "DBSIZE": arity(0); return encode.int(this.current(false).entries);
      case "GET": { arity(1); return this.current(false).getBulk(arg(1)) ?? encode.nil(); }
      case "MGET": { if (args.length < 2) arity(1); const ns = this.current(false); return encode.array(args.slice(1).map((k) => { const v = ns.get(k); return v ? encode.bulk(v) : encode.nil(); })); }
      case "EXISTS": arity(1); return encode.int(this.current(false).exists(arg(1)) ? 1 : 0);
      case "SET": arity(2); return this.current(true).set(arg(1), arg(2)).then((key) => (key ? encode.bulk(key) : encode.nil()));
      case "DEL": {
        arity(1);
        return this.current(true).del(arg(1)).then((found) => {
          if (!found) throw new ZdbRequestError("Key not found");
          return encode.simple("OK");
        });
      }
      case "SCAN": {
        arity(0, 1);
        const page = this.current(false).scan(args[1]);
        if (!page.next) throw new ZdbRequestError("No more data");
        return encode.array([encode.bulk(page.next), encode.array(page.items.map((i) => encode.array([encode.bulk(i.key), encode.int(i.size), encode.int(i.time)])))]);
      }
      default: throw new ZdbRequestError(`unknown command '${cmd.slice(0, 32)}'`);
    }
  }
}
