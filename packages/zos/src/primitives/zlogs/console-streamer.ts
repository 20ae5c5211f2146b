/**
 * Follows a VM's console log (from its end when started) and sends each new line to an output
 * (zlogs-sink.ts: `ws://`, `wss://`, `redis://host:port/channel`). The output is checked by the
 * node's EgressPolicy before every connection (a refused output is reported by `lastError` and
 * retried like a failure). Failures never escape: a refusing, non-WebSocket or vanishing server
 * only makes the streamer wait and reconnect, with a back-off doubling from 1 s to 60 s (reset
 * once a connection held for 10 s). Lines over 16 KiB are cut; lines produced while the output
 * is away are dropped (logs are best effort).
 *
 * @example
 * ```ts
 * const s = new ConsoleStreamer("/var/lib/zos/vms/7-12-vm/console.log", "ws://logs.example:9000/x", { policy });
 * s.start(); … await s.stop();
 * ```
 */
import { open, stat } from "node:fs/promises";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { openSink, type Sink } from "./zlogs-sink.ts";

const POLL_MS = 300;
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 60_000;
const STABLE_MS = 10_000;
export const MAX_LINE_BYTES = 16 * 1024;

export interface ConsoleStreamerOptions {
  /** Checks the output's address (default: a policy refusing loopback, link-local, own addresses, …). */
  policy?: EgressPolicy;
  /** Back-off bounds (tests shorten them). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class ConsoleStreamer {
  readonly #path: string;
  readonly #output: string;
  readonly #policy: EgressPolicy;
  readonly #retryMin: number;
  readonly #retryMax: number;
  #offset = -1;
  #partial = "";
  #sink: Sink | undefined;
  #connecting = false;
  #connectedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #busy = false;
  #nextConnect = 0;
  #delay: number;
  /** Connection attempts so far (tests and logs). */
  attempts = 0;
  /** Why the last connection failed or was refused. */
  lastError: string | undefined;

  constructor(path: string, output: string, options: ConsoleStreamerOptions = {}) {
    this.#path = path;
    this.#output = output;
    this.#policy = options.policy ?? new EgressPolicy();
    this.#retryMin = options.retryMinMs ?? RETRY_MIN_MS;
    this.#retryMax = options.retryMaxMs ?? RETRY_MAX_MS;
    this.#delay = this.#retryMin;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), POLL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#sink?.close();
    this.#sink = undefined;
  }

  /** The wait before the next connection attempt. */
  get retryDelayMs(): number {
    return this.#delay;
  }

  #gone(): void {
    this.#sink = undefined;
    if (this.#connectedAt && Date.now() - this.#connectedAt >= STABLE_MS) this.#delay = this.#retryMin;
    this.#connectedAt = 0;
    this.#nextConnect = Date.now() + this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#retryMax);
  }

  async #connect(): Promise<void> {
    this.#connecting = true;
    this.attempts++;
    try {
      const target = await this.#policy.resolve(this.#output);
      if (this.#stopped) return;
      const sink = openSink(this.#output, target, () => {
        if (this.#sink === sink) this.#gone();
      });
      this.#sink = sink;
      this.#connectedAt = Date.now();
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      this.#gone();
    } finally {
      this.#connecting = false;
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    try {
      if (!this.#sink && !this.#connecting && Date.now() >= this.#nextConnect) void this.#connect();
      await this.#read();
    } catch {
      // the console file vanished or is unreadable for a moment: try again on the next tick
    } finally {
      this.#busy = false;
    }
  }

  async #read(): Promise<void> {
    const size = await stat(this.#path).then((s) => s.size, () => -1);
    if (size < 0) return;
    if (this.#offset < 0 || size < this.#offset) this.#offset = this.#offset < 0 ? size : 0; // start at the end; restart after truncation (rotation)
    if (size === this.#offset) return;
    const fh = await open(this.#path, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.#offset, 1 << 20));
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
      this.#offset += bytesRead;
      const lines = (this.#partial + buf.subarray(0, bytesRead).toString("utf8")).split("\n");
      this.#partial = lines.pop() ?? "";
      if (this.#partial.length > MAX_LINE_BYTES) {
        lines.push(this.#partial);
        this.#partial = "";
      }
      const sink = this.#sink;
      if (sink?.ready()) for (const l of lines) sink.send(l.replace(/\r$/, "").slice(0, MAX_LINE_BYTES));
    } finally {
      await fh.close();
    }
  }
}
