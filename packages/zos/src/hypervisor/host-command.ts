/**
 * Runs a host tool (ip, mkfs.ext4, qemu-system-x86_64) without a shell and turns a failure into a
 * HostCommandError carrying stderr.
 *
 * @example
 * ```ts
 * const { stdout } = await runHost("ip", ["-j", "link", "show"]);
 * ```
 */
import { execFile } from "node:child_process";
import { HostCommandError } from "./errors.ts";

export interface HostResult {
  stdout: string;
  stderr: string;
}

export function runHost(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<HostResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr || err.message).trim().slice(-2000);
        reject(new HostCommandError(`${cmd} ${args[0] ?? ""} failed: ${detail.split("\n").pop() ?? ""}`, {
          details: { cmd, args, stderr: detail, exitCode: (err as { code?: unknown }).code },
          cause: err,
        }));
      } else resolve({ stdout, stderr });
    });
  });
}
