/**
 * Where a running `zgrid bot run` tells `zgrid metrics` its Prometheus endpoint:
 * `<data dir>/3bot-metrics.json` ({ url, pid, twin }), written when it starts and removed when it
 * stops. A file left by a SIGKILLed bot names a dead pid and is ignored.
 *
 * @example
 * ```ts
 * writeBotMetricsUrl(dataDir, { url: "http://127.0.0.1:9464/metrics", pid: process.pid, twin: 12 });
 * readBotMetricsUrl(dataDir); // { url, pid, twin } while that process lives
 * ```
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BotMetricsEndpoint { url: string; pid: number; twin: number }

const file = (dataDir: string) => join(dataDir, "3bot-metrics.json");

export function writeBotMetricsUrl(dataDir: string, e: BotMetricsEndpoint): void {
  writeFileSync(`${file(dataDir)}.tmp`, JSON.stringify(e) + "\n");
  renameSync(`${file(dataDir)}.tmp`, file(dataDir));
}

export function clearBotMetricsUrl(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running bot's endpoint, or undefined (no bot, a dead one's file, or a malformed file). */
export function readBotMetricsUrl(dataDir: string): BotMetricsEndpoint | undefined {
  let raw: unknown;
  try {
    const text = readFileSync(file(dataDir), "utf8");
    if (text.length > 4096) return undefined;
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const e = raw as Partial<BotMetricsEndpoint>;
  if (typeof e?.url !== "string" || !/^http:\/\/[^/]+\/metrics$/.test(e.url) || !Number.isInteger(e.pid) || !Number.isInteger(e.twin)) return undefined;
  return alive(e.pid!) ? (e as BotMetricsEndpoint) : undefined;
}
