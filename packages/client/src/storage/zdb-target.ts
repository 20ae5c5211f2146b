/**
 * One zdb namespace used as a shard store: an ioredis connection that SELECTs the namespace
 * (with its password) and reconnects on the next call after a failure. Every call is bounded by
 * a timeout, so a dead node costs one timeout, never a hang; after a failure that is not the
 * server's answer (refused, timed out, reset) the target fails fast for `retryAfterMs`, so a
 * frozen or lost node costs one timeout per object, not one per block.
 *
 * @example
 * ```ts
 * const t = new ZdbTarget({ host: "10.20.2.1", port: 9900, namespace: "7-12-db", password: "pw" });
 * await t.set("k", Buffer.from("v")); await t.get("k"); t.close();
 * ```
 */

import { createRequire } from "node:module";
import type * as Ioredis from "ioredis";
import type { Redis } from "ioredis";

let ioredis: typeof Ioredis | undefined;
/** ioredis, loaded on the first connection (SDK users that never store data do not pay for it). */
function loadIoredis(): typeof Ioredis {
  return (ioredis ??= createRequire(import.meta.url)("ioredis") as typeof Ioredis);
}

export interface ZdbTargetInfo {
  host: string;
  port: number;
  namespace: string;
  password?: string;
}

export class ZdbTarget {
  readonly info: ZdbTargetInfo;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private conn: Promise<Redis> | undefined;
  private down: { until: number; reason: string } | undefined;

  constructor(info: ZdbTargetInfo, o: { timeoutMs?: number; retryAfterMs?: number } = {}) {
    this.info = info;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.retryAfterMs = o.retryAfterMs ?? 10_000;
  }

  /** Runs one command; a failure other than the server's own error reply marks the target down. */
  private async run<T>(op: (r: Redis) => Promise<T>): Promise<T> {
    if (this.down && Date.now() < this.down.until) throw new Error(`${this.label} is unreachable (${this.down.reason}); not retried for ${this.retryAfterMs} ms`);
    try {
      return await op(await this.connect());
    } catch (e) {
      if (!(e instanceof Error && e.name === "ReplyError")) {
        this.down = { until: Date.now() + this.retryAfterMs, reason: e instanceof Error ? e.message : String(e) };
        this.close();
      }
      throw e;
    }
  }

  get label(): string {
    return `${this.info.namespace}@${this.info.host}:${this.info.port}`;
  }

  private connect(): Promise<Redis> {
    if (!this.conn) {
      const r = new (loadIoredis().Redis)({ host: this.info.host, port: this.info.port, lazyConnect: true, enableReadyCheck: false, enableOfflineQueue: true,
        maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: this.timeoutMs, commandTimeout: this.timeoutMs });
      r.on("error", () => undefined);
      const p = (async () => {
        await r.connect();
        await r.call("SELECT", ...(this.info.password ? [this.info.namespace, this.info.password] : [this.info.namespace]));
        return r;
      })();
      this.conn = p;
      p.catch(() => {
        r.disconnect();
        if (this.conn === p) this.conn = undefined;
      });
      r.on("end", () => {
        if (this.conn === p) this.conn = undefined;
      });
    }
    return this.conn;
  }

  async set(key: string, value: Buffer): Promise<void> {
    await this.run((r) => r.call("SET", key, value));
  }

  async get(key: string): Promise<Buffer | null> {
    return (await this.run((r) => r.callBuffer("GET", key))) as Buffer | null;
  }

  async del(key: string): Promise<void> {
    await this.run((r) => r.call("DEL", key)).catch((e: unknown) => {
      if (!(e instanceof Error && /Key not found/.test(e.message))) throw e;
    });
  }

  close(): void {
    void this.conn?.then((r) => r.disconnect(), () => undefined);
    this.conn = undefined;
  }
}
