/**
 * A twin's peer on the message bus: signed JSON requests to other twins by twin id, handlers for
 * commands others send, optional circuit relay service, limits and metrics.
 *
 * @example
 * ```ts
 * const bus = await createBus({ key, twinId: 12, directory, listen: ["/ip4/127.0.0.1/tcp/0"] });
 * bus.handle("zos.deployment.get", async (payload, ctx) => engine.get(ctx.twinId, payload.contract_id));
 * const deployment = await bus.request(7, "zos.deployment.get", { contract_id: 7 }, { timeout: 10_000 });
 * await bus.stop();
 * ```
 */
import { randomUUID } from "node:crypto";
import { RELAY_V2_HOP_CODEC, type CircuitRelayService } from "@libp2p/circuit-relay-v2";
import type { Libp2p } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { createLogger } from "@zgrid/log";
import type { TwinKey } from "@zgrid/types";
import { BatchSigner } from "./client/batch-signer.ts";
import { PeerChannel } from "./client/peer-channel.ts";
import { TwinCache } from "./directory/twin-cache.ts";
import type { TwinDirectory, TwinRecord } from "./directory/twin-directory.ts";
import { BusError, BusMessageTooLargeError, BusRemoteError, BusStoppedError, BusTwinRecordError, BusUnreachableError } from "./errors/bus-errors.ts";
import { accountOfPeerId, peerIdOfTwinKey } from "./identity/peer-identity.ts";
import { BusMetrics, type BusMetricsSnapshot } from "./metrics/bus-metrics.ts";
import { createPeerNode, type RelayServerOptions } from "./node/create-peer-node.ts";
import { scheduleStartupMemoryRelease } from "./node/release-startup-memory.ts";
import { keepRelayReservations, type RelayReservations } from "./node/relay-reservations.ts";
import { resolveBusLimits, type BusLimits } from "./server/bus-limits.ts";
import { InboundGuard } from "./server/inbound-guard.ts";
import { SESSION_HELLO, serveInboundStream, type BusHandler } from "./server/inbound-session.ts";
import { ReplayCache } from "./server/replay-cache.ts";
import { TwinRateLimiter, type RateLimit } from "./server/twin-rate-limiter.ts";
import { FRAME_KIND } from "./wire/frame-codec.ts";
import { BUS_PROTOCOL } from "./wire/protocol.ts";

export interface BusOptions {
  /** The twin's key: signs requests and is the libp2p identity. */
  key: TwinKey;
  twinId: number;
  directory: TwinDirectory;
  /** Listen multiaddrs; default `/ip4/127.0.0.1/tcp/0`. Empty: reachable only through relays. */
  listen?: string[];
  /** Addresses to announce instead of the listen ones. */
  announce?: string[];
  relay?: {
    /** Serve as a circuit relay for other peers (public nodes). */
    server?: boolean | RelayServerOptions;
    /** Relays to hold reservations on; default: the relays in this twin's own record. */
    reserveOn?: string[];
    /** How often lost reservations are looked for and renewed (ms, default 5000). */
    checkIntervalMs?: number;
  };
  limits?: Partial<Omit<BusLimits, "rate">> & { rate?: Partial<RateLimit> };
  /** How long twin records are cached (they are also dropped on twin-updated events). */
  twinCacheTtlMs?: number;
  /** Default request timeout in ms (30 s). */
  defaultTimeoutMs?: number;
  /** Start at once (default true). */
  start?: boolean;
  /**
   * Authenticated sessions (default true): after one signed request on a stream is answered,
   * later requests on it carry no signature (README, "Sessions"). false signs every request.
   */
  sessions?: boolean;
  /**
   * Milliseconds after the start at which one memory-reducing GC gives back what start-up grew
   * (once per process; default 5000; -1 never). See node/release-startup-memory.ts.
   */
  releaseStartupMemoryMs?: number;
}

export interface RequestOptions {
  /** Milliseconds to wait for the answer; also bounds the envelope's validity. */
  timeout?: number;
}

export interface Bus {
  readonly twinId: number;
  readonly account: `0x${string}`;
  /** This peer's id (`16Uiu2HA…`), derived from the twin key. */
  readonly peerId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a signed request to a twin and returns its answer; errors are typed (see bus-errors). */
  request<T = unknown>(twinId: number, command: string, payload?: unknown, options?: RequestOptions): Promise<T>;
  /** Serves a command; the handler's return value (JSON) is the answer, its BaseError the error. */
  handle(command: string, handler: BusHandler): void;
  unhandle(command: string): void;
  /** Multiaddrs this peer is reachable on (with `/p2p/<peerId>`; relay addresses included). */
  addresses(): string[];
  metrics(): BusMetricsSnapshot;
  /** The libp2p node while started (for diagnostics). */
  readonly node: Libp2p | undefined;
}

/** Creates a bus peer for a twin (started unless `start: false`). */
export async function createBus(options: BusOptions): Promise<Bus> {
  const bus = new TwinBus(options);
  if (options.start !== false) await bus.start();
  return bus;
}

class TwinBus implements Bus {
  readonly twinId: number;
  readonly account: `0x${string}`;
  readonly peerId: string;
  readonly #options: BusOptions;
  readonly #limits: BusLimits;
  readonly #handlers = new Map<string, BusHandler>();
  readonly #metrics = new BusMetrics();
  readonly #replay = new ReplayCache();
  readonly #limiter: TwinRateLimiter;
  readonly #channels = new Map<number, PeerChannel>();
  readonly #log;
  readonly #signer: BatchSigner;
  #twins: TwinCache | undefined;
  #node: Libp2p | undefined;
  #unsubscribe: (() => void) | undefined;
  #reservations: RelayReservations | undefined;
  #starting: Promise<void> | undefined;
  #guard: InboundGuard | undefined;

  constructor(options: BusOptions) {
    this.#options = options;
    this.twinId = options.twinId;
    this.account = options.key.address;
    this.peerId = peerIdOfTwinKey(options.key).toString();
    this.#limits = resolveBusLimits(options.limits);
    this.#limiter = new TwinRateLimiter(this.#limits.rate);
    this.#log = createLogger("bus", { twin: options.twinId });
    this.#signer = new BatchSigner(options.key);
  }

  get node(): Libp2p | undefined {
    return this.#node;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { directory } = this.#options;
    const twins = new TwinCache(directory, { ...(this.#options.twinCacheTtlMs ? { ttlMs: this.#options.twinCacheTtlMs } : {}) });
    const reserveOn = this.#options.relay?.reserveOn ?? (await directory.getTwin(this.twinId).catch(() => undefined))?.relays ?? [];
    const guard = new InboundGuard(this.#limits, {
      log: this.#log,
      // Relay users may stay silent on the bus: a reservation holder is reached through us, and a
      // connection carrying a circuit (an open hop stream) talks to the circuit's target.
      isExempt: (peer, connection) =>
        ((this.#node?.services as { relay?: CircuitRelayService } | undefined)?.relay?.reservations.has(peer) ?? false) ||
        (connection?.streams.some((s) => s.protocol === RELAY_V2_HOP_CODEC) ?? false),
    });
    const node = await createPeerNode({
      key: this.#options.key,
      connectionGater: { denyInboundEncryptedConnection: (peer, maConn) => !guard.allowConnection(maConn.remoteAddr, peer) },
      listen: this.#options.listen ?? ["/ip4/127.0.0.1/tcp/0"],
      ...(this.#options.announce ? { announce: this.#options.announce } : {}),
      ...(this.#options.relay?.server ? { relayServer: this.#options.relay.server } : {}),
    });
    node.addEventListener("connection:open", (event) => void guard.opened(event.detail));
    node.addEventListener("connection:close", (event) => guard.closed(event.detail));
    const deps = { twinId: this.twinId, twins, handlers: this.#handlers, replay: this.#replay, limiter: this.#limiter, limits: this.#limits, metrics: this.#metrics, log: this.#log, guard };
    try {
      // The guard holds each connection to its own stream limit (lower until proven).
      await node.handle(BUS_PROTOCOL, (stream, connection) => serveInboundStream(stream, connection, deps), { maxInboundStreams: this.#limits.maxStreamsPerConnection, runOnLimitedConnection: true });
    } catch (error) {
      await node.stop();
      twins.close();
      throw error;
    }
    this.#twins = twins;
    this.#node = node;
    this.#guard = guard;
    scheduleStartupMemoryRelease(this.#options.releaseStartupMemoryMs ?? 5_000);
    this.#unsubscribe = directory.onTwinUpdated?.((twinId) => {
      if (twinId === this.twinId) void this.#refreshOwnRelays();
      else void this.#refreshChannel(twinId);
    });
    const reservations = keepRelayReservations(node, reserveOn, { log: this.#log, ...(this.#options.relay?.checkIntervalMs ? { intervalMs: this.#options.relay.checkIntervalMs } : {}) });
    this.#reservations = reservations;
    // Once start() resolves the peer is reachable through its relays (unless one is down: then
    // this waits at most one dial timeout, and the reservation is retried in the background).
    await reservations.firstCheck;
    this.#log.debug({ peerId: this.peerId, addrs: this.addresses() }, "bus started");
  }

  async stop(): Promise<void> {
    const starting = this.#starting;
    if (!starting) return;
    await starting.catch(() => undefined);
    this.#starting = undefined;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#unsubscribe?.();
    this.#reservations?.stop();
    this.#twins?.close();
    this.#guard?.clear();
    const node = this.#node;
    this.#node = undefined;
    this.#twins = undefined;
    await node?.stop();
  }

  handle(command: string, handler: BusHandler): void {
    this.#handlers.set(command, handler);
  }

  unhandle(command: string): void {
    this.#handlers.delete(command);
  }

  addresses(): string[] {
    return this.#node?.getMultiaddrs().map((a) => a.toString()) ?? [];
  }

  metrics(): BusMetricsSnapshot {
    return this.#metrics.snapshot(this.#channels.size, this.#guard?.snapshot());
  }

  async request<T = unknown>(twinId: number, command: string, payload?: unknown, options: RequestOptions = {}): Promise<T> {
    const started = performance.now();
    this.#metrics.outbound.requests++;
    try {
      return (await this.#request(twinId, command, payload, options.timeout ?? this.#options.defaultTimeoutMs ?? 30_000)) as T;
    } catch (error) {
      this.#metrics.outbound.error(error instanceof BusError ? error.code : "BUS_INTERNAL");
      throw error;
    } finally {
      this.#metrics.outbound.latency.observe(performance.now() - started);
    }
  }

  async #request(twinId: number, command: string, payload: unknown, timeout: number): Promise<unknown> {
    const twins = this.#twins;
    if (!twins || !this.#node) throw new BusStoppedError("the bus is not started", { hint: "call bus.start() first" });
    if (twinId === this.twinId) throw new BusUnreachableError("a bus peer cannot send requests to its own twin", { details: { twinId } });
    let record: TwinRecord | undefined;
    try {
      record = await twins.get(twinId);
    } catch (error) {
      throw new BusUnreachableError(`twin ${twinId} could not be looked up`, { cause: error, details: { twinId }, hint: "check the twin directory (chain connection)" });
    }
    if (!record) throw new BusUnreachableError(`twin ${twinId} is not known`, { details: { twinId } });
    const channel = this.#channel(record);
    const now = Date.now();
    const envelope = { uid: randomUUID(), timestamp: now, expiration: now + Math.min(timeout, this.#limits.maxTtlMs), source: this.twinId, destination: twinId, command, payload: payload ?? null };
    let body: Uint8Array;
    try {
      body = encoder.encode(JSON.stringify(envelope));
    } catch (error) {
      throw new BusError("the payload cannot be serialised to JSON", { cause: error, details: { command } });
    }
    if (body.byteLength > this.#limits.maxMessageBytes) {
      throw new BusMessageTooLargeError("the request is larger than the maximum message size", { details: { bytes: body.byteLength, max: this.#limits.maxMessageBytes } });
    }
    const frame = await channel.call(body, now + timeout);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(frame.rest));
    } catch (error) {
      throw new BusError("the peer sent an answer that is not JSON", { cause: error, details: { twinId, command } });
    }
    if (frame.kind === FRAME_KIND.response) return value;
    const remote = value as { code?: unknown; message?: unknown; details?: unknown; hint?: unknown };
    throw new BusRemoteError({
      code: typeof remote?.code === "string" ? remote.code : "BUS_REMOTE",
      message: typeof remote?.message === "string" ? remote.message : "the peer answered with an error",
      ...(remote?.details && typeof remote.details === "object" ? { details: remote.details as Record<string, unknown> } : {}),
      ...(typeof remote?.hint === "string" ? { hint: remote.hint } : {}),
    });
  }

  /** The channel to a twin's peer, created or re-addressed from its record. */
  #channel(record: TwinRecord): PeerChannel {
    const existing = this.#channels.get(record.id);
    if (existing && existing.peerId.toString() === record.peerId) return existing;
    existing?.close();
    if (accountOfPeerId(record.peerId)?.toLowerCase() !== record.account.toLowerCase()) {
      throw new BusTwinRecordError(`twin ${record.id}'s peer id is not the key of its account`, { details: { twinId: record.id, peerId: record.peerId, account: record.account } });
    }
    const twinId = record.id;
    // A signed, tiny request that opens a session before a large one (strangers' frames are capped).
    const hello = (): Uint8Array => {
      const now = Date.now();
      return encoder.encode(JSON.stringify({ uid: randomUUID(), timestamp: now, expiration: now + 60_000, source: this.twinId, destination: twinId, command: SESSION_HELLO, payload: null }));
    };
    const channel = new PeerChannel({ node: this.#node!, peerId: peerIdFromString(record.peerId), addrs: dialAddrs(record), maxBodyBytes: this.#limits.maxMessageBytes + 512, log: this.#log, signer: this.#signer, sessions: this.#options.sessions !== false, hello });
    this.#channels.set(record.id, channel);
    return channel;
  }

  /** This twin's record changed: reserve on its relays (unless they were given explicitly). */
  async #refreshOwnRelays(): Promise<void> {
    if (this.#options.relay?.reserveOn || !this.#twins) return;
    const own = await this.#twins.get(this.twinId).catch(() => undefined);
    if (own) this.#reservations?.setRelays(own.relays);
  }

  async #refreshChannel(twinId: number): Promise<void> {
    const channel = this.#channels.get(twinId);
    if (!channel || !this.#twins) return;
    const record = await this.#twins.get(twinId).catch(() => undefined);
    if (record && record.peerId === channel.peerId.toString()) channel.setAddrs(dialAddrs(record));
  }
}

const encoder = new TextEncoder();

/** Dialable addresses of a twin: its direct addresses, then circuits through its relays. */
export function dialAddrs(record: TwinRecord): Multiaddr[] {
  const out: Multiaddr[] = [];
  const suffix = `/p2p/${record.peerId}`;
  for (const addr of record.addrs) {
    try {
      out.push(multiaddr(addr.endsWith(suffix) ? addr : `${addr}${suffix}`));
    } catch {
      // A bad address in a record must not stop the others from being tried.
    }
  }
  for (const relay of record.relays) {
    try {
      out.push(multiaddr(`${relay}/p2p-circuit${suffix}`));
    } catch {
      // as above
    }
  }
  return out;
}
