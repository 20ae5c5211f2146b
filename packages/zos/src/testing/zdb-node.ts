/**
 * A node's zdb service in its own process (tests and benches): what a node of the grid runs for
 * its zdb workloads, without the rest of zosd, so a test can hold several "nodes" on one machine
 * and crash them for real (SIGKILL), freeze them (SIGSTOP) and start them again on the same data
 * dir and port. The child is `zdb-node-main.ts`; it loads only the zdb service.
 *
 * @example
 * ```ts
 * const node = await startZdbNode({ dir: "/tmp/n0", namespaces: [{ name: "7-1-backup", password: "pw" }] });
 * node.signal("SIGKILL"); await node.exited;
 * const again = await startZdbNode({ dir: "/tmp/n0", port: node.port, namespaces: [] }); // data kept
 * await again.stop();
 * ```
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ZdbNodeOptions {
  dir: string;
  /** 0 (default) picks one; pass the old port to restart a node where clients expect it. */
  port?: number;
  /** Namespaces to create (user mode, 64 MiB, private) unless already on disk. */
  namespaces: Array<{ name: string; password: string; size?: number }>;
}

export interface ZdbNode {
  port: number;
  pid: number;
  /** Resolves when the process has exited (any way). */
  exited: Promise<void>;
  signal(sig: NodeJS.Signals): void;
  /** Clean stop (closes the service), waits for the exit. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL("./zdb-node-main.ts", import.meta.url));

export function startZdbNode(o: ZdbNodeOptions): Promise<ZdbNode> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ZDB_NODE: JSON.stringify(o) }, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = () => reject(new Error(`zdb node process exited before it was ready (${o.dir})`));
    child.once("exit", fail);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (!m) return;
      child.off("exit", fail);
      const pid = child.pid as number;
      resolve({
        port: Number(m[1]),
        pid,
        exited,
        signal: (sig) => {
          if (child.exitCode === null && child.signalCode === null) process.kill(pid, sig);
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(pid, "SIGCONT");
            child.stdin.end();
          }
          await exited;
        },
      });
    });
  });
}
