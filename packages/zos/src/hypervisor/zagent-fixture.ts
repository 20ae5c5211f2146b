/**
 * Tests only: the real guest agent (packages/zos/guest/zagent.c, compiled here with gcc) on the
 * host, without a VM, behind a unix socket like QEMU's agent chardev, so `GuestAgent` (and what
 * is built on it) talks to the real agent. A shell shim stands in for `zinit -x` (which chroots
 * into the app's root in the guest); a `sleep` stands in for the app.
 *
 * @example
 * ```ts
 * const fx = await startHostAgent();
 * const agent = new GuestAgent(fx.socketPath);
 * await agent.exec({ argv: ["echo", "hi"], timeoutMs: 5000 });
 * await fx.stop();
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../guest/zagent.c", import.meta.url));

export interface HostAgent {
  /** Where `GuestAgent` connects (one connection at a time, like QEMU's chardev). */
  socketPath: string;
  agent: ChildProcess;
  /** Kills the agent and the stand-in app, removes the directory. */
  stop(): Promise<void>;
}

/** An agent as an older release shipped it (testdata/): VMs keep the agent they booted with. */
export const OLD_AGENT_SOURCES = {
  /** Main at the start of session 5 (f5b16ef): hello "zagent 1", 'e'/'E'/'k'/'s', no streamed frames. */
  v1NoStream: fileURLToPath(new URL("./testdata/zagent-f5b16ef.c", import.meta.url)),
};

/**
 * Compiles and starts an agent: today's zagent.c, or `source` (an older one), with `edit` applied
 * to the text first (e.g. to make it say an older version).
 */
export async function startHostAgent(opts: { source?: string; edit?: (text: string) => string } = {}): Promise<HostAgent> {
  const dir = mkdtempSync(join(tmpdir(), "zagent-fx-"));
  const bin = join(dir, "zagent");
  const src = join(dir, "zagent.c");
  writeFileSync(src, (opts.edit ?? ((x: string) => x))(readFileSync(opts.source ?? SRC, "utf8")));
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", bin, src], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`cannot compile zagent.c: ${cc.stderr}`);
  const shim = join(dir, "zinit");
  writeFileSync(shim, '#!/bin/sh\n# stands in for `zinit -x -w DIR -u USER -- CMD…`\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n');
  chmodSync(shim, 0o755);
  const app = spawn("sleep", ["3600"], { stdio: "ignore" });
  const agent = spawn(bin, [String(app.pid), shim], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const port = agent.stdio[3] as Socket;
  const socketPath = join(dir, "agent.sock");
  let current: Socket | undefined;
  const onPort = (c: Buffer) => { current?.write(c); };
  port.on("data", onPort);
  const server = createServer((conn) => {
    current?.destroy();
    current = conn;
    conn.on("data", (c) => port.write(c));
    conn.on("error", () => undefined);
    conn.on("close", () => { if (current === conn) current = undefined; });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath, agent,
    async stop() {
      current?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.kill("SIGKILL");
      app.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
