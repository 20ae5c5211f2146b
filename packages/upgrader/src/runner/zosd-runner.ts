/**
 * Runs zosd from an unpacked release (its own Node, or the upgrader's when the release has none)
 * with zosd's Node flags and environment (ZOSD_NODE_FLAGS / ZOSD_ENV, preloads from the release),
 * in its own process group so a stopping upgrader decides what happens to it. Reads zosd's
 * `{"ready":…}` line; the daemon's log goes to a file per version.
 *
 * @example
 * ```ts
 * const z = startZosdFrom({ dir: "/var/lib/zgrid-upgrader/versions/2.0.0", entry: manifest.entry, configPath, version: "2.0.0", logFile });
 * const ready = await z.ready;    // { ready: true, nodeId, peerId, addresses, … } or throws
 * await z.stop();                 // SIGTERM (VMs keep running), SIGKILL after the grace time
 * ```
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { ZOSD_ENV, ZOSD_NODE_OPTIONS, ZOSD_PRELOADS } from "@zgrid/zos/node-flags";

export interface ZosdReady { ready: true; account: string; twinId: number; nodeId: number; peerId: string; addresses: string[] }

export interface ZosdHandle {
  pid: number;
  version: string;
  /** Resolves on the ready line; rejects when zosd reports an error, exits first or `readyTimeoutMs` passes. */
  ready: Promise<ZosdReady>;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  alive(): boolean;
  stop(graceMs?: number): Promise<void>;
}

export interface StartZosdOptions {
  dir: string;
  entry: { node?: string | undefined; zosd: string };
  configPath: string;
  version: string;
  logFile: string;
  readyTimeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * zosd's Node flags for a release (ZOSD_NODE_FLAGS of @zgrid/zos): the options as they are, each
 * `--import` preload resolved from the release's own zosd entry, so it is the release's file that
 * runs (never the upgrader's checkout). A release that lacks a preload (older than the flag) runs
 * without it rather than not at all.
 *
 * @example
 * ```ts
 * zosdNodeFlags("/var/lib/zgrid-upgrader/versions/2.0.0", "packages/zos/bin/zosd.ts");
 * // ["--max-semi-space-size=1", "--import=file:///var/lib/zgrid-upgrader/versions/2.0.0/packages/types/src/runtime/strip-cache-register.js"]
 * ```
 */
export function zosdNodeFlags(dir: string, zosdEntry: string): string[] {
  const fromEntry = createRequire(join(dir, zosdEntry));
  const preloads = ZOSD_PRELOADS.flatMap((specifier) => {
    try {
      return [`--import=${pathToFileURL(fromEntry.resolve(specifier)).href}`];
    } catch {
      return [];
    }
  });
  return [...ZOSD_NODE_OPTIONS, ...preloads];
}

export function startZosdFrom(o: StartZosdOptions): ZosdHandle {
  const node = o.entry.node ? join(o.dir, o.entry.node) : process.execPath;
  const log = openSync(o.logFile, "a");
  const args = [...zosdNodeFlags(o.dir, o.entry.zosd), "--disable-warning=ExperimentalWarning", join(o.dir, o.entry.zosd), "--config", o.configPath];
  const child = spawn(node, args, {
    cwd: o.dir, detached: true, stdio: ["ignore", "pipe", log],
    env: { ...process.env, ...ZOSD_ENV, ...o.env, ZGRID_RELEASE_VERSION: o.version, ZGRID_GUEST_DIR: process.env.ZGRID_GUEST_DIR ?? join(o.dir, ".tools", "guest") },
  });
  closeSync(log);
  let exitedAt: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve((exitedAt = code ?? signal ?? -1))));
  const ready = new Promise<ZosdReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zosd ${o.version} was not ready within ${o.readyTimeoutMs ?? 120_000} ms`)), o.readyTimeoutMs ?? 120_000);
    timer.unref();
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(line) as ZosdReady | { ready: false; error?: { message?: string } };
        if (r.ready) resolve(r);
        else reject(new Error(`zosd ${o.version} failed to start: ${r.error?.message ?? "unknown error"}`));
      } catch {
        reject(new Error(`zosd ${o.version} printed no ready line: ${line.slice(0, 200)}`));
      }
      lines.on("line", () => undefined); // keep draining stdout
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`zosd ${o.version} exited (${code}) before it was ready`)); });
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    version: o.version,
    ready,
    exited,
    alive: () => exitedAt === undefined,
    async stop(graceMs = 20_000) {
      if (exitedAt !== undefined) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
