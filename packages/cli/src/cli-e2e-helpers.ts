/**
 * Shared helpers of the CLI's end-to-end tests (cli, compose, network-access, zdb): run the real
 * `zgrid` binary against a local grid's data dir, and poll until a condition holds.
 *
 * @example
 * ```ts
 * const cli = zgridRunner(() => dataDir);
 * const vms = cli.ok<VmInfo[]>("vm", "ls");
 * await waitFor("vm up", () => cli.ok<VmInfo>("vm", "get", "a").state, (s) => s === "ok");
 * ```
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ZGRID_BIN = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));

export interface ZgridRun { code: number; stdout: string; stderr: string; json: unknown }

/** `zgrid --data-dir <dir> --json …` runners; the data dir is read at each call (set in `before`). */
export function zgridRunner(dataDir: () => string) {
  function zgrid(...args: string[]): ZgridRun {
    const r = spawnSync(process.execPath, [ZGRID_BIN, "--data-dir", dataDir(), "--json", ...args], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
    let json: unknown;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
  }
  /** Runs and asserts exit 0; the parsed JSON answer. */
  function ok<T>(...args: string[]): T {
    const r = zgrid(...args);
    assert.equal(r.code, 0, `zgrid ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.json as T;
  }
  /** Runs and asserts exit `code`; the JSON error. */
  function failing(code: number, ...args: string[]): { code: string; message: string; hint?: string } {
    const r = zgrid(...args);
    assert.equal(r.code, code, `zgrid ${args.join(" ")}: expected exit ${code}, got ${r.code}\n${r.stdout}\n${r.stderr}`);
    return (r.json as { error: { code: string; message: string; hint?: string } }).error;
  }
  return { zgrid, ok, failing };
}

/** Polls `fn` every 500 ms until `good` holds; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T, good: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = fn();
  while (!good(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = fn();
  }
  return last;
}
