/**
 * The node daemon's configuration (a JSON file for `zosd --config`), validated with zod so a bad
 * config says which field is wrong before anything starts.
 *
 * @example
 * ```json
 * { "dataDir": "/var/lib/zos", "farmId": 1,
 *   "chain": { "rpcUrl": "http://127.0.0.1:8545", "addresses": { "token": "0x…", "registry": "0x…", "contracts": "0x…", "governance": "0x…" } },
 *   "bus": { "listen": ["/ip4/0.0.0.0/tcp/4100"] }, "flist": { "requireSignature": true } }
 * ```
 */
import { z } from "zod";
import { BaseError } from "@zgrid/types";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((a) => a as `0x${string}`);

export const zosConfigSchema = z.strictObject({
  /** Node data: seed, database, disks, VM state, flist cache. */
  dataDir: z.string().startsWith("/"),
  /** Short dir for VM sockets (QMP paths must fit 107 bytes); default <dataDir>/vms-state. */
  vmStateDir: z.string().startsWith("/").optional(),
  farmId: z.number().int().min(1),
  chain: z.strictObject({
    rpcUrl: z.url(),
    addresses: z.strictObject({ token: address, registry: address, contracts: address, governance: address }),
    /** Every chain read of the node answers within this, ms, or fails with CHAIN_TIMEOUT (chain/chain-deadline.ts). */
    timeoutMs: z.number().int().min(100).default(15_000),
    /** The same for a write (transaction sent and mined), ms. */
    writeTimeoutMs: z.number().int().min(100).default(150_000),
  }),
  bus: z.strictObject({
    listen: z.array(z.string()).default(["/ip4/127.0.0.1/tcp/0"]),
    announce: z.array(z.string()).optional(),
    /** Relays to hold reservations on (multiaddrs with /p2p/). */
    relays: z.array(z.string()).default([]),
    relayServer: z.boolean().default(false),
    /**
     * Requests per second (and burst) one twin may send this node; above it its requests wait
     * their turn (bus: up to 2 s, then refused), so one twin's flood cannot take the node's time
     * from the others (issue 12: bench/hostile). Far above what a client, 3bot or explorer needs.
     */
    rate: z.strictObject({ ratePerSecond: z.number().positive().max(100_000), burst: z.number().min(1).max(100_000) }).default({ ratePerSecond: 50, burst: 100 }),
  }).default({ listen: ["/ip4/127.0.0.1/tcp/0"], relays: [], relayServer: false, rate: { ratePerSecond: 50, burst: 100 } }),
  flist: z.strictObject({
    requireSignature: z.boolean().default(true),
    trustedSigners: z.array(address).optional(),
    cacheBytes: z.number().int().min(64 * 1024 * 1024).default(8 * 1024 ** 3),
    stores: z.array(z.string()).optional(),
  }).default({ requireSignature: true, cacheBytes: 8 * 1024 ** 3 }),
  capacity: z.strictObject({ cru: z.number().int().min(1), mru: z.number().int().min(1), sru: z.number().int().min(0), hru: z.number().int().min(0) }).partial().default({}),
  location: z.strictObject({ city: z.string().max(64), country: z.string().max(64) }).partial().default({}),
  publicConfig: z.strictObject({ ip4: z.string(), gw4: z.string(), ip6: z.string(), gw6: z.string(), domain: z.string() }).partial().default({}),
  /** The node's bridge on the farm's public segment (public IPs of VMs); the underlay makes it. */
  publicBridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).default("br-pub"),
  /** Ports of the gateway proxy (on gateway nodes: publicConfig.domain set). */
  /**
   * Ports of the gateway proxy; FQDN gateways need a TXT record `_zgrid.<fqdn>` = `zgrid-twin=<id>`,
   * looked up through `fqdnResolvers` (`ip` or `ip:port`; default the system's resolvers).
   */
  gateway: z.strictObject({
    httpPort: z.number().int().min(1).max(65535).default(80), httpsPort: z.number().int().min(1).max(65535).default(443),
    fqdnResolvers: z.array(z.string().max(64)).max(8).optional(),
    /** Bounds against hostile backends and clients (haproxy-gateway.ts GatewayLimits; defaults there). */
    limits: z.strictObject({
      serverTimeoutMs: z.number().int().min(100), clientTimeoutMs: z.number().int().min(100), requestTimeoutMs: z.number().int().min(100),
      connectionsPerServer: z.number().int().min(1).max(100_000), queueTimeoutMs: z.number().int().min(100),
    }).partial().optional(),
  }).default({ httpPort: 80, httpsPort: 443 }),
  /**
   * What the node fetches or connects to for tenants (egress/egress-policy.ts). `allow`: `host:port`,
   * URLs or CIDRs always allowed (e.g. the farm's own hub on the underlay); `services`: more
   * underlay service addresses to refuse (the chain RPC, flist stores and bus listen addresses
   * are always added).
   */
  egress: z.strictObject({ allow: z.array(z.string().max(256)).max(256).default([]), services: z.array(z.string().max(256)).max(256).default([]) })
    .default({ allow: [], services: [] }),
  /** Per-twin limits on this node (each network runs a wireguard-go, each zmachine a QEMU). */
  quotas: z.strictObject({
    networks: z.number().int().min(0).default(16), gateways: z.number().int().min(0).default(32),
    zmachines: z.number().int().min(0).default(64), zlogs: z.number().int().min(0).default(64),
  }).default({ networks: 16, gateways: 32, zmachines: 64, zlogs: 64 }),
  /** Each VM's console log is rotated at `consoleLogBytes` (one older copy kept: 2 × the cap on disk). */
  limits: z.strictObject({
    consoleLogBytes: z.number().int().min(64 * 1024).default(8 * 1024 ** 2),
    installTimeoutMs: z.number().int().min(1000).default(600_000),
    flistDownloadTimeoutMs: z.number().int().min(1000).default(60_000),
    maxFlistBytes: z.number().int().min(1024 * 1024).default(64 * 1024 ** 2),
  }).default({ consoleLogBytes: 8 * 1024 ** 2, installTimeoutMs: 600_000, flistDownloadTimeoutMs: 60_000, maxFlistBytes: 64 * 1024 ** 2 }),
  /**
   * The zdb service's listener on the node's own address. Port 0 (default, since several local-grid
   * nodes share one host) picks one and keeps it across restarts; a real node sets 0-db's 9900.
   * `announce`: the node addresses zdb results name (default: the bus's IPv4 addresses).
   */
  zdb: z.strictObject({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65535).default(0), announce: z.array(z.string()).default([]) })
    .default({ host: "0.0.0.0", port: 0, announce: [] }),
  hypervisor: z.strictObject({ accel: z.enum(["auto", "kvm", "tcg"]).default("auto"), guestDir: z.string().optional() }).default({ accel: "auto" }),
  /** Prometheus text endpoint (GET /metrics) on this port; absent = none. */
  metrics: z.strictObject({ port: z.number().int().min(0).max(65535), host: z.string().default("127.0.0.1") }).optional(),
  /**
   * The power switch (src/power/power-switch.ts): `acpi` on servers (WoL armed on `nic`, rtcwake
   * off with an RTC alarm after `wakeAfterSeconds`), `bmc` under the local grid's simulated BMC,
   * `none` (default): the node refuses to power off. `nic` is also the MAC registered on chain.
   */
  power: z.strictObject({
    switch: z.enum(["none", "acpi", "bmc"]).default("none"),
    nic: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).default("eth0"),
    wakeAfterSeconds: z.number().int().min(60).default(20 * 3600),
  }).default({ switch: "none", nic: "eth0", wakeAfterSeconds: 20 * 3600 }),
  intervals: z.strictObject({
    reconcileMs: z.number().int().min(100).default(600_000),
    uptimeMs: z.number().int().min(1000).default(40 * 60_000),
    monitorMs: z.number().int().min(100).default(10_000),
  }).default({ reconcileMs: 600_000, uptimeMs: 40 * 60_000, monitorMs: 10_000 }),
});

export type ZosConfig = z.output<typeof zosConfigSchema>;
export type ZosConfigInput = z.input<typeof zosConfigSchema>;

export class ZosConfigError extends BaseError {
  override readonly code: string = "ZOS_CONFIG";
}

export function parseZosConfig(input: unknown): ZosConfig {
  const r = zosConfigSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ZosConfigError(`invalid node config: ${issues.join("; ")}`, { details: { issues }, hint: "fix the config file and start again" });
  }
  return r.data;
}
