/**
 * Test support: runs a command without blocking the event loop (a server in the test process —
 * a hub, a throttled store — must keep answering while the child reads a mount).
 *
 * @example
 * ```ts
 * const { status, stdout } = await runChild("cat", ["/mnt/x/file"]);
 * ```
 */
import { spawn } from "node:child_process";

export interface ChildResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runChild(cmd: string, args: string[], timeoutMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
  });
}
