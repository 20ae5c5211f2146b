/**
 * The node's one egress policy: everything zosd fetches or connects to on a tenant's behalf
 * (flist URLs and stores, zlogs outputs, gateway backends) is checked here first. Refused:
 * loopback, link-local, unspecified, multicast, broadcast and reserved addresses, the node's own
 * addresses (every interface, looked up at check time), and the underlay's service addresses
 * (chain RPC, hub, stores, bus listen addresses: every port of their address), in any encoding
 * (see egress-address.ts). A name is resolved once; every address it resolves to must pass, and
 * the caller connects to the checked address (no second lookup to rebind). `allow` entries
 * (`host:port`, a URL, or a CIDR) pass even so: e.g. the farm's own hub.
 *
 * @example
 * ```ts
 * const policy = new EgressPolicy({ services: ["http://10.0.0.1:8545"], allow: ["http://10.0.0.1:7000"] });
 * const to = await policy.resolve("ws://logs.example:9000/x"); // { host, address: "203.0.113.7", family: 4, port: 9000 }
 * await policy.resolve("http://[::ffff:127.0.0.1]:22/");       // throws EgressRefusedError: … loopback address
 * ```
 */
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";
import { hostPort, parseIpLiteral, unwrap, type IpAddress } from "./egress-address.ts";
import { EgressRefusedError } from "./egress-error.ts";

export interface EgressPolicyOptions {
  /** Underlay services (URLs, `host:port`, or multiaddrs like /ip4/a.b.c.d/tcp/p): their addresses are refused. */
  services?: readonly string[];
  /** Always allowed: `host:port`, a URL (its host and port), or a CIDR (any port). */
  allow?: readonly string[];
  /** The node's own addresses (default: every interface's, read at each check). */
  ownAddresses?: () => string[];
  /** Name resolution (default: the OS resolver, all addresses). */
  resolveName?: (name: string) => Promise<string[]>;
  /** Time allowed for resolving a name (default 5 s). */
  resolveTimeoutMs?: number;
}

export interface EgressTarget {
  /** The name or literal as given (for Host headers and TLS SNI). */
  host: string;
  /** The checked address to connect to. */
  address: string;
  family: 4 | 6;
  port: number;
}

const REFUSED_RANGES: Record<string, string> = {
  loopback: "a loopback address", linkLocal: "a link-local address", unspecified: "an unspecified address",
  multicast: "a multicast address", broadcast: "a broadcast address", reserved: "a reserved address",
};

const NDMZ_RANGE = ipaddr.parseCIDR("100.127.0.0/16");

const osAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
const osResolve = async (name: string): Promise<string[]> => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

function multiaddrHost(s: string): string | undefined {
  const m = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(s);
  return m?.[2];
}

export class EgressPolicy {
  readonly #o: EgressPolicyOptions;
  #services: Promise<IpAddress[]> | undefined;
  #allow: Promise<Array<{ range?: [IpAddress, number]; address?: string; port?: number }>> | undefined;

  constructor(options: EgressPolicyOptions = {}) {
    this.#o = options;
  }

  /** Why `address` (a literal) may not be reached at `port`, or undefined when it may. */
  async reason(address: string, port: number): Promise<string | undefined> {
    const a = parseIpLiteral(address);
    if (!a) return `${address} is not an IP address`;
    if (await this.#allowed(a, port)) return undefined;
    const range = a.range();
    const shown = a.toString();
    if (REFUSED_RANGES[range]) return `${shown} is ${REFUSED_RANGES[range]}`;
    // The egress side of every tenant network (100.127.0.0/16 in the ndmz): another twin's namespace.
    if (a.kind() === "ipv4" && a.match(NDMZ_RANGE)) return `${shown} is an address of the node's tenant networks (ndmz)`;
    const own = (this.#o.ownAddresses ?? osAddresses)().map((x) => parseIpLiteral(x)?.toString());
    if (own.includes(shown)) return `${shown} is an address of this node`;
    if ((await this.#serviceAddresses()).some((s) => s.toString() === shown)) return `${shown} is an address of the grid's services (chain, hub, bus)`;
    return undefined;
  }

  /**
   * Resolves `target` (URL or `host:port`) once and checks every address it names.
   * Throws EgressRefusedError saying why; returns the checked address to connect to.
   */
  async resolve(target: string): Promise<EgressTarget> {
    let host: string;
    let port: number;
    try {
      ({ host, port } = hostPort(target));
    } catch {
      throw new EgressRefusedError(target, "not a valid URL");
    }
    if (!host) throw new EgressRefusedError(target, "no host");
    const literal = parseIpLiteral(host);
    let addresses: string[];
    if (literal) addresses = [literal.toString()];
    else {
      try {
        addresses = await withTimeout((this.#o.resolveName ?? osResolve)(host), this.#o.resolveTimeoutMs ?? 5000);
      } catch {
        throw new EgressRefusedError(target, `the name ${host} does not resolve`);
      }
      if (addresses.length === 0) throw new EgressRefusedError(target, `the name ${host} does not resolve`);
    }
    for (const a of addresses) {
      const why = await this.reason(a, port);
      if (why) throw new EgressRefusedError(target, literal ? why : `${host} resolves to ${why}`);
    }
    const address = parseIpLiteral(addresses[0]!)!.toString();
    return { host: host.replace(/^\[|\]$/g, ""), address, family: address.includes(":") ? 6 : 4, port };
  }

  async #allowed(a: IpAddress, port: number): Promise<boolean> {
    this.#allow ??= Promise.all((this.#o.allow ?? []).map(async (entry) => {
      if (!entry.includes("://") && entry.includes("/")) {
        const [net, bits] = ipaddr.parseCIDR(entry);
        return { range: [unwrap(net), unwrap(net).kind() === "ipv4" && net.kind() === "ipv6" ? bits - 96 : bits] as [IpAddress, number] };
      }
      const { host, port: p } = hostPort(entry);
      const lit = parseIpLiteral(host);
      const addrs = lit ? [lit.toString()] : await osResolve(host).catch(() => []);
      return addrs.map((x) => ({ address: parseIpLiteral(x)?.toString(), port: p }));
    })).then((l) => l.flat());
    const shown = a.toString();
    for (const e of await this.#allow) {
      if (e.range && e.range[0].kind() === a.kind() && a.match(e.range as never)) return true;
      if (e.address === shown && (e.port === 0 || e.port === port)) return true;
    }
    return false;
  }

  #serviceAddresses(): Promise<IpAddress[]> {
    this.#services ??= Promise.all((this.#o.services ?? []).map(async (s) => {
      let host: string | undefined;
      try {
        host = s.startsWith("/") ? multiaddrHost(s) : hostPort(s).host;
      } catch {
        return [];
      }
      if (!host) return [];
      const lit = parseIpLiteral(host);
      if (lit) return lit.range() === "unspecified" ? [] : [lit];
      const addrs = await (this.#o.resolveName ?? osResolve)(host).catch(() => []);
      return addrs.map((x) => parseIpLiteral(x)).filter((x): x is IpAddress => x !== undefined);
    })).then((l) => l.flat());
    return this.#services;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error("timeout")), ms); })]).finally(() => clearTimeout(timer));
}
