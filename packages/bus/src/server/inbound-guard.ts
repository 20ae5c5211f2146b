/**
 * Bounds what peers that have not proven who they are can make this peer hold. A connection is
 * *proven* once one signed request on it verified (its twin is known and signed with the key
 * Noise authenticated); until then it is a stranger's and gets little:
 *
 * - connections: at most `maxUnprovenConnections` unproven inbound ones in total and
 *   `maxUnprovenConnectionsPerIp` from one IP (checked by the connection gater once Noise named
 *   the peer: a peer that proved itself before, e.g. a twin behind the same NAT as an attacker,
 *   is always let in; relay users — peers holding a reservation here, connections carrying a
 *   relayed circuit — do not count);
 * - streams: `maxUnprovenStreamsPerConnection` bus streams (proven: `maxStreamsPerConnection`);
 * - bytes: frames over `maxUnprovenFrameBytes` are refused and skipped unbuffered, and all
 *   unproven connections together buffer at most `maxUnprovenBufferedBytes` (the stream that
 *   would cross it is reset);
 * - time: an inbound connection still unproven after `unprovenIdleMs` is closed (relay users
 *   are exempt: a reservation holder is reached through us, a relayed circuit's source talks to
 *   its target, not to us).
 *
 * Proven connections are held per twin: partial frames of one twin's connections together stay
 * under `maxBufferedBytesPerTwin`, so one twin's flood cannot take memory from the others.
 *
 * @example
 * ```ts
 * const guard = new InboundGuard(limits, { log, isExempt: (peer, connection) => relay.reservations.has(peer) });
 * createPeerNode({ …, connectionGater: { denyInboundEncryptedConnection: (peer, c) => !guard.allowConnection(c.remoteAddr, peer) } });
 * node.addEventListener("connection:open", (e) => guard.opened(e.detail));
 * ```
 */
import type { Connection, PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "@zgrid/log";
import type { BusLimits } from "./bus-limits.ts";
import { ProvenConnections, type ProvenSnapshot } from "./proven-connections.ts";

/** What the guard knows of one connection (shared by the bus streams on it). */
export interface GuardedConnection {
  readonly id: string;
  readonly inbound: boolean;
  readonly ip: string | undefined;
  readonly peer: PeerId;
  readonly connection: Connection;
  proven: boolean;
  /** The twin whose signed request proved the connection. */
  twin: number | undefined;
  streams: number;
  buffered: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface GuardSnapshot {
  unprovenConnections: number;
  /** Bytes of unfinished frames held for unproven connections. */
  unprovenBufferedBytes: number;
  /** Bytes of unfinished frames held for proven connections (all twins). */
  provenBufferedBytes: number;
  refusedConnections: number;
  refusedStreams: number;
  resetStreams: number;
  closedIdle: number;
  /** Proven inbound connections: tracked, closed idle, evicted over a per-twin/per-IP cap. */
  proven?: ProvenSnapshot;
}

type GuardLimits = Pick<BusLimits, "maxUnprovenConnections" | "maxUnprovenConnectionsPerIp" | "maxStreamsPerConnection" | "maxUnprovenStreamsPerConnection" | "maxUnprovenFrameBytes" | "maxUnprovenBufferedBytes" | "maxBufferedBytesPerTwin" | "unprovenIdleMs" | "maxMessageBytes" | "provenIdleMs" | "maxConnectionsPerTwin" | "maxProvenConnectionsPerIp">;

/** The IP of a multiaddr (`/ip4/1.2.3.4/tcp/…` → `1.2.3.4`), undefined for circuits and others. */
export function ipOf(addr: Multiaddr | undefined): string | undefined {
  if (!addr || addr.toString().includes("/p2p-circuit")) return undefined;
  const first = addr.getComponents()[0];
  return first && (first.name === "ip4" || first.name === "ip6") ? first.value : undefined;
}

export class InboundGuard {
  readonly #limits: GuardLimits;
  readonly #log: Logger;
  readonly #isExempt: (peer: PeerId, connection?: Connection) => boolean;
  /** Peers that proved themselves (bounded, oldest forgotten first). */
  readonly #provenPeers = new Set<string>();
  readonly #conns = new Map<string, GuardedConnection>();
  readonly #twinBuffered = new Map<number, number>();
  #unprovenBuffered = 0;
  #provenBuffered = 0;
  #refusedConnections = 0;
  #refusedStreams = 0;
  #resetStreams = 0;
  #closedIdle = 0;
  readonly #proven: ProvenConnections;

  /** `isExempt(peer, connection?)`: a relay user (the connection is absent while still gated). */
  constructor(limits: GuardLimits, options: { log: Logger; isExempt?: (peer: PeerId, connection?: Connection) => boolean }) {
    this.#limits = limits;
    this.#log = options.log;
    this.#isExempt = options.isExempt ?? (() => false);
    this.#proven = new ProvenConnections(limits, { log: options.log, isExempt: this.#isExempt });
  }

  /** Connection gater: may a new inbound connection from this address and peer be accepted? */
  allowConnection(remoteAddr: Multiaddr | undefined, peer?: PeerId): boolean {
    if (peer && (this.#provenPeers.has(peer.toString()) || this.#isExempt(peer))) return true;
    const ip = ipOf(remoteAddr);
    let total = 0;
    let fromIp = 0;
    for (const c of this.#conns.values()) {
      if (!c.inbound || c.proven || this.#isExempt(c.peer, c.connection)) continue;
      total++;
      if (ip !== undefined && c.ip === ip) fromIp++;
    }
    const allowed = total < this.#limits.maxUnprovenConnections && fromIp < this.#limits.maxUnprovenConnectionsPerIp;
    if (!allowed) {
      this.#refusedConnections++;
      this.#log.debug({ ip, unproven: total, fromIp }, "bus refused an inbound connection (too many unproven)");
    }
    return allowed;
  }

  /** A connection opened: inbound ones are unproven and on the idle clock. */
  opened(connection: Connection): GuardedConnection {
    const known = this.#conns.get(connection.id);
    if (known) return known;
    const inbound = connection.direction === "inbound";
    const state: GuardedConnection = { id: connection.id, inbound, ip: ipOf(connection.remoteAddr), peer: connection.remotePeer, connection, proven: false, twin: undefined, streams: 0, buffered: 0, timer: undefined };
    this.#conns.set(connection.id, state);
    if (inbound) this.#armIdle(connection, state);
    return state;
  }

  closed(connection: Connection): void {
    const state = this.#conns.get(connection.id);
    if (!state) return;
    clearTimeout(state.timer);
    this.#release(state, state.buffered);
    this.#conns.delete(connection.id);
    this.#proven.remove(connection.id);
  }

  /** A bus stream opened on a connection; a reason string when it must be refused. */
  openStream(connection: Connection): GuardedConnection | string {
    // A stream handled after its connection closed must not leave a state behind.
    if (connection.status !== "open") return "the connection is closing";
    const state = this.opened(connection);
    const max = state.proven ? this.#limits.maxStreamsPerConnection : this.#limits.maxUnprovenStreamsPerConnection;
    if (state.streams >= max) {
      this.#refusedStreams++;
      return `at most ${max} bus streams per ${state.proven ? "" : "unproven "}connection`;
    }
    state.streams++;
    return state;
  }

  /** A bus stream closed: what it still buffered is released. */
  closeStream(state: GuardedConnection, buffered: number): void {
    state.streams = Math.max(0, state.streams - 1);
    this.#release(state, buffered);
  }

  /** Largest frame body a stream of this connection may send now. */
  frameLimit(state: GuardedConnection): number {
    return state.proven ? this.#limits.maxMessageBytes + 512 : this.#limits.maxUnprovenFrameBytes;
  }

  /** A signed request of `twin` verified on this connection. */
  prove(state: GuardedConnection, twin: number): void {
    if (state.proven) return;
    state.proven = true;
    state.twin = twin;
    const peer = state.peer.toString();
    this.#provenPeers.delete(peer);
    this.#provenPeers.add(peer);
    if (this.#provenPeers.size > 4096) this.#provenPeers.delete(this.#provenPeers.values().next().value!);
    clearTimeout(state.timer);
    state.timer = undefined;
    // What the stranger buffered now counts against the twin.
    this.#unprovenBuffered -= state.buffered;
    this.#provenBuffered += state.buffered;
    this.#twinBuffered.set(twin, (this.#twinBuffered.get(twin) ?? 0) + state.buffered);
    if (state.inbound) this.#proven.add(state.connection, twin, state.ip);
  }

  /** A request started (+1) or ended (-1) on a connection (keeps a proven one from idling out). */
  busy(state: GuardedConnection, delta: 1 | -1): void {
    this.#proven.busy(state.id, delta);
  }

  /**
   * A stream's unfinished-frame bytes changed by `delta`; a reason string when the connection's
   * class (unproven pool, or its twin) is over its budget: the caller resets that stream.
   */
  account(state: GuardedConnection, delta: number): string | undefined {
    state.buffered += delta;
    if (!state.proven) {
      this.#unprovenBuffered += delta;
      if (delta > 0 && this.#unprovenBuffered > this.#limits.maxUnprovenBufferedBytes) {
        this.#resetStreams++;
        return `unproven connections hold more than ${this.#limits.maxUnprovenBufferedBytes} bytes`;
      }
      return undefined;
    }
    this.#provenBuffered += delta;
    const twinTotal = (this.#twinBuffered.get(state.twin!) ?? 0) + delta;
    this.#twinBuffered.set(state.twin!, twinTotal);
    if (delta > 0 && twinTotal > this.#limits.maxBufferedBytesPerTwin) {
      this.#resetStreams++;
      return `twin ${state.twin} holds more than ${this.#limits.maxBufferedBytesPerTwin} bytes of unfinished frames`;
    }
    return undefined;
  }

  snapshot(): GuardSnapshot {
    let unproven = 0;
    for (const c of this.#conns.values()) if (c.inbound && !c.proven && !this.#isExempt(c.peer, c.connection)) unproven++;
    return {
      unprovenConnections: unproven,
      unprovenBufferedBytes: this.#unprovenBuffered,
      provenBufferedBytes: this.#provenBuffered,
      refusedConnections: this.#refusedConnections,
      refusedStreams: this.#refusedStreams,
      resetStreams: this.#resetStreams,
      closedIdle: this.#closedIdle,
      proven: this.#proven.snapshot(),
    };
  }

  /** Forgets everything (bus stopped). */
  clear(): void {
    for (const c of this.#conns.values()) clearTimeout(c.timer);
    this.#conns.clear();
    this.#proven.clear();
    this.#twinBuffered.clear();
    this.#unprovenBuffered = 0;
    this.#provenBuffered = 0;
  }

  #release(state: GuardedConnection, held: number): void {
    // Clamped: a stream closing after its connection was released gives nothing back twice.
    const bytes = Math.min(held, state.buffered);
    if (bytes <= 0) return;
    state.buffered -= bytes;
    if (!state.proven) {
      this.#unprovenBuffered -= bytes;
      return;
    }
    this.#provenBuffered -= bytes;
    const left = (this.#twinBuffered.get(state.twin!) ?? 0) - bytes;
    if (left > 0) this.#twinBuffered.set(state.twin!, left);
    else this.#twinBuffered.delete(state.twin!);
  }

  #armIdle(connection: Connection, state: GuardedConnection): void {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (state.proven || !this.#conns.has(state.id)) return;
      if (this.#isExempt(connection.remotePeer, connection)) {
        this.#armIdle(connection, state);
        return;
      }
      this.#closedIdle++;
      this.#log.debug({ peer: connection.remotePeer.toString(), ip: state.ip }, "bus closed a connection that sent no valid request in time");
      connection.abort(new Error("no valid bus request in time"));
    }, this.#limits.unprovenIdleMs);
    state.timer.unref?.();
  }
}
