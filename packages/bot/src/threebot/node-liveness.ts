/**
 * Decides when a node is dead, with no false positive on a slow answer: each watched node is
 * probed over the bus every `probeIntervalMs` (its own timer, no shared awaits); a node is **dead**
 * when it has not answered for `windowMs` (default 30 s), at least `minFailedProbes` probes in a
 * row failed, and it has not proven its uptime on chain since it went silent. One answer makes it
 * alive again (then it is "back": the bot does not resurrect what it moved away).
 *
 * @example
 * ```ts
 * const l = new NodeLiveness({ probe: (twin, ms) => nodeClient(bus, twin).version({ timeout: ms }), lastUptimeReport: async (id) => Number((await chain.getNode(id)).lastUptimeReport) });
 * l.watch(2, 8); l.start();
 * l.state(2); // "alive" | "suspect" | "dead"
 * ```
 */
export interface LivenessOptions {
  /** How long a node must stay silent before it is dead (ms, default 30 000). */
  windowMs?: number;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Failed probes in a row needed (default 3). */
  minFailedProbes?: number;
}

export interface LivenessDeps {
  probe(nodeTwinId: number, timeoutMs: number): Promise<unknown>;
  /** The node's last uptime report on chain, unix seconds. */
  lastUptimeReport(nodeId: number): Promise<number>;
  now?(): number;
  onChange?(nodeId: number, state: NodeState, detail: { silentMs: number; failures: number }): void;
}

export type NodeState = "alive" | "suspect" | "dead";

interface Watched {
  nodeId: number;
  twinId: number;
  lastOkAt: number;
  silentSince: number | undefined;
  failures: number;
  state: NodeState;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
}

export class NodeLiveness {
  readonly windowMs: number;
  private readonly o: Required<LivenessOptions>;
  private readonly deps: LivenessDeps;
  private readonly nodes = new Map<number, Watched>();
  private running = false;

  constructor(deps: LivenessDeps, o: LivenessOptions = {}) {
    const windowMs = o.windowMs ?? 30_000;
    this.o = {
      windowMs, minFailedProbes: o.minFailedProbes ?? 3,
      probeIntervalMs: o.probeIntervalMs ?? Math.max(500, Math.floor(windowMs / 6)),
      probeTimeoutMs: o.probeTimeoutMs ?? Math.max(500, Math.min(3_000, Math.floor(windowMs / 4))),
    };
    this.windowMs = windowMs;
    this.deps = deps;
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  /** Starts probing a node (no-op when already watched). A new node counts as alive until proven otherwise. */
  watch(nodeId: number, twinId: number): void {
    if (this.nodes.has(nodeId)) return;
    const w: Watched = { nodeId, twinId, lastOkAt: this.now(), silentSince: undefined, failures: 0, state: "alive", timer: undefined, busy: false };
    this.nodes.set(nodeId, w);
    if (this.running) this.schedule(w, 0);
  }

  state(nodeId: number): NodeState {
    return this.nodes.get(nodeId)?.state ?? "alive";
  }

  /** Nodes currently dead. */
  dead(): number[] {
    return [...this.nodes.values()].filter((w) => w.state === "dead").map((w) => w.nodeId);
  }

  snapshot(): Array<{ nodeId: number; state: NodeState; lastOkAt: number; failures: number }> {
    return [...this.nodes.values()].map((w) => ({ nodeId: w.nodeId, state: w.state, lastOkAt: w.lastOkAt, failures: w.failures }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const w of this.nodes.values()) this.schedule(w, 0);
  }

  stop(): void {
    this.running = false;
    for (const w of this.nodes.values()) clearTimeout(w.timer);
  }

  /** One probe of one node now (also what the timer runs). */
  async probeOnce(nodeId: number): Promise<NodeState> {
    const w = this.nodes.get(nodeId);
    if (!w) return "alive";
    if (w.busy) return w.state;
    w.busy = true;
    try {
      await this.deps.probe(w.twinId, this.o.probeTimeoutMs);
      w.lastOkAt = this.now();
      w.silentSince = undefined;
      w.failures = 0;
      this.set(w, "alive");
    } catch {
      const now = this.now();
      w.failures++;
      w.silentSince ??= w.lastOkAt;
      const silentMs = now - w.silentSince;
      if (w.failures >= this.o.minFailedProbes && silentMs >= this.o.windowMs) {
        // The chain is the second witness: an uptime proof made since it went silent keeps it alive.
        const proof = await this.deps.lastUptimeReport(w.nodeId).catch(() => 0);
        this.set(w, proof * 1000 > w.silentSince ? "suspect" : "dead");
      } else this.set(w, "suspect");
    } finally {
      w.busy = false;
    }
    return w.state;
  }

  private set(w: Watched, state: NodeState): void {
    if (w.state === state) return;
    w.state = state;
    this.deps.onChange?.(w.nodeId, state, { silentMs: w.silentSince === undefined ? 0 : this.now() - w.silentSince, failures: w.failures });
  }

  private schedule(w: Watched, delay: number): void {
    if (!this.running) return;
    w.timer = setTimeout(() => {
      void this.probeOnce(w.nodeId).finally(() => this.schedule(w, this.o.probeIntervalMs));
    }, delay);
    w.timer.unref();
  }
}
