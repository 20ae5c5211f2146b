/**
 * Bounds on inbound connections that HAVE proven their twin (issue 12): a twin that opened a
 * connection once must not hold it, and its memory, forever.
 *
 * - idle: a proven inbound connection with no request in flight and none received for
 *   `provenIdleMs` is closed (the client's channel dials again on its next request);
 * - count: at most `maxConnectionsPerTwin` proven inbound connections of one twin and
 *   `maxProvenConnectionsPerIp` from one IP; proving one more closes the least recently active
 *   connection of that twin (or IP) — the newest one always stays, so a client that reconnects is
 *   never locked out, and a twin flooding connections only ever evicts its own (per twin).
 *
 * Relay users (`isExempt`) are neither closed when idle nor counted.
 *
 * @example
 * ```ts
 * const proven = new ProvenConnections(limits, { log });
 * proven.add(connection, twin, ip);   // a signed request verified on it
 * proven.busy(connection.id, +1);     // a request started …
 * proven.busy(connection.id, -1);     // … and ended
 * proven.remove(connection.id);       // connection closed
 * ```
 */
import type { Connection, PeerId } from "@libp2p/interface";
import type { Logger } from "@zgrid/log";
import type { BusLimits } from "./bus-limits.ts";

type ProvenLimits = Pick<BusLimits, "provenIdleMs" | "maxConnectionsPerTwin" | "maxProvenConnectionsPerIp">;

interface Tracked {
  connection: Connection;
  twin: number;
  ip: string | undefined;
  lastActive: number;
  inFlight: number;
}

export interface ProvenSnapshot {
  provenConnections: number;
  closedIdleProven: number;
  evictedConnections: number;
}

export class ProvenConnections {
  readonly #limits: ProvenLimits;
  readonly #log: Logger;
  readonly #isExempt: (peer: PeerId, connection?: Connection) => boolean;
  readonly #now: () => number;
  readonly #tracked = new Map<string, Tracked>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closedIdle = 0;
  #evicted = 0;

  constructor(limits: ProvenLimits, options: { log: Logger; isExempt?: (peer: PeerId, connection?: Connection) => boolean; now?: () => number }) {
    this.#limits = limits;
    this.#log = options.log;
    this.#isExempt = options.isExempt ?? (() => false);
    this.#now = options.now ?? Date.now;
  }

  /** An inbound connection proved `twin`: tracked from now on; over a cap, the least active one goes. */
  add(connection: Connection, twin: number, ip: string | undefined): void {
    if (this.#tracked.has(connection.id)) return;
    this.#tracked.set(connection.id, { connection, twin, ip, lastActive: this.#now(), inFlight: 0 });
    this.#enforce((t) => t.twin === twin, this.#limits.maxConnectionsPerTwin, `twin ${twin} holds more than ${this.#limits.maxConnectionsPerTwin} bus connections`, connection.id);
    if (ip !== undefined) {
      this.#enforce((t) => t.ip === ip, this.#limits.maxProvenConnectionsPerIp, `more than ${this.#limits.maxProvenConnectionsPerIp} proven bus connections from ${ip}`, connection.id);
    }
    this.#startSweeper();
  }

  /** A request started (+1) or ended (-1) on a connection: it is active now. */
  busy(connectionId: string, delta: 1 | -1): void {
    const t = this.#tracked.get(connectionId);
    if (!t) return;
    t.inFlight = Math.max(0, t.inFlight + delta);
    t.lastActive = this.#now();
  }

  remove(connectionId: string): void {
    this.#tracked.delete(connectionId);
    if (this.#tracked.size === 0) this.#stopSweeper();
  }

  /** Closes every tracked connection idle for longer than `provenIdleMs`; returns how many. */
  sweep(): number {
    const deadline = this.#now() - this.#limits.provenIdleMs;
    let closed = 0;
    for (const [id, t] of this.#tracked) {
      if (t.inFlight > 0 || t.lastActive > deadline || this.#isExempt(t.connection.remotePeer, t.connection)) continue;
      this.#tracked.delete(id);
      this.#closedIdle++;
      closed++;
      this.#log.debug({ twin: t.twin, ip: t.ip, idleMs: this.#now() - t.lastActive }, "bus closed an idle connection");
      t.connection.abort(new Error(`no bus request for ${this.#limits.provenIdleMs} ms`));
    }
    if (this.#tracked.size === 0) this.#stopSweeper();
    return closed;
  }

  snapshot(): ProvenSnapshot {
    return { provenConnections: this.#tracked.size, closedIdleProven: this.#closedIdle, evictedConnections: this.#evicted };
  }

  clear(): void {
    this.#tracked.clear();
    this.#stopSweeper();
  }

  #enforce(member: (t: Tracked) => boolean, max: number, reason: string, keep: string): void {
    const group = [...this.#tracked.entries()].filter(([, t]) => member(t) && !this.#isExempt(t.connection.remotePeer, t.connection));
    if (group.length <= max) return;
    // Idle ones first, then the least recently active; never the connection just proven.
    const victims = group
      .filter(([id]) => id !== keep)
      .sort(([, a], [, b]) => (a.inFlight === 0 ? 0 : 1) - (b.inFlight === 0 ? 0 : 1) || a.lastActive - b.lastActive)
      .slice(0, group.length - max);
    for (const [id, t] of victims) {
      this.#tracked.delete(id);
      this.#evicted++;
      this.#log.debug({ twin: t.twin, ip: t.ip, reason }, "bus closed a connection over its cap");
      t.connection.abort(new Error(reason));
    }
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    const every = Math.max(50, Math.min(30_000, Math.floor(this.#limits.provenIdleMs / 4)));
    this.#sweeper = setInterval(() => this.sweep(), every);
    this.#sweeper.unref?.();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
