// The real guest agent (packages/zos/guest/zagent.c, compiled here) on the host, without a VM: its
// port is a socketpair as fd 3 and a shim stands in for `zinit -x` (which chroots into the app's
// root in the guest). Covers what needs no guest: an exec's stdin ('E' frames: the bytes, then
// EOF; /dev/null without), and the bound on stdin. The VM tests (guest-agent.test.ts) cover the rest.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { FrameDecoder, MAX_EXEC_STDIN, encodeExec, encodeFrame, parseExit, type Frame } from "./agent-protocol.ts";

const SRC = fileURLToPath(new URL("../../guest/zagent.c", import.meta.url));

test("the agent feeds an exec its stdin and then EOF; without stdin the command reads /dev/null; too much stdin is refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zagent-host-"));
  const bin = join(dir, "zagent");
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", bin, SRC], { encoding: "utf8" });
  assert.equal(cc.status, 0, cc.stderr);
  const shim = join(dir, "zinit");
  writeFileSync(shim, '#!/bin/sh\n# stands in for `zinit -x -w DIR -u USER -- CMD…`\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n');
  chmodSync(shim, 0o755);
  const app = spawn("sleep", ["600"], { stdio: "ignore" });
  const agent = spawn(bin, [String(app.pid), shim], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  t.after(() => { agent.kill("SIGKILL"); app.kill("SIGKILL"); rmSync(dir, { recursive: true, force: true }); });
  const port = agent.stdio[3] as Socket;
  const frames: Frame[] = [];
  const decoder = new FrameDecoder();
  let wake = () => undefined as void;
  port.on("data", (c: Buffer) => { frames.push(...decoder.push(c)); wake(); });
  const next = async (pred: (f: Frame) => boolean): Promise<Frame> => {
    const end = Date.now() + 20_000;
    for (;;) {
      const i = frames.findIndex(pred);
      if (i >= 0) return frames.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`no such frame; have ${frames.map((f) => f.type).join(",")}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 200); });
    }
  };
  const ofId = (type: string, id: number) => (f: Frame) => f.type === type && f.payload.readUInt32BE(0) === id;
  /** Runs one exec; its stdout and exit. */
  const run = async (id: number, argv: string[], stdin?: Buffer) => {
    port.write(encodeExec({ id, timeoutMs: 10_000, argv, env: [], workdir: "/", user: "", ...(stdin ? { stdin } : {}) }));
    const exit = parseExit((await next(ofId("x", id))).payload)!;
    const out = Buffer.concat(frames.filter((f) => ofId("o", id)(f)).map((f) => f.payload.subarray(4))).toString();
    return { exit, out };
  };

  port.write(encodeFrame("h"));
  assert.equal((await next((f) => f.type === "H")).payload.toString(), "zagent 2");

  assert.deepEqual(await run(1, ["cat"], Buffer.from("hello agent\n")), { exit: { id: 1, code: 0, timedOut: false }, out: "hello agent\n" });
  // the largest stdin: all of it arrives, then EOF (wc ends)
  const big = Buffer.alloc(MAX_EXEC_STDIN, "z");
  assert.equal((await run(2, ["wc", "-c"], big)).out.trim(), String(MAX_EXEC_STDIN));
  // empty stdin: EOF at once
  assert.deepEqual(await run(3, ["cat"], Buffer.alloc(0)), { exit: { id: 3, code: 0, timedOut: false }, out: "" });
  // no stdin ('e' frame): /dev/null
  assert.deepEqual(await run(4, ["cat"]), { exit: { id: 4, code: 0, timedOut: false }, out: "" });
  // a hand-made frame past the agent's bound is refused, and the agent keeps serving
  assert.throws(() => encodeExec({ id: 5, timeoutMs: 1000, argv: ["cat"], env: [], workdir: "/", user: "", stdin: Buffer.alloc(MAX_EXEC_STDIN + 1) }), RangeError);
  const head = encodeExec({ id: 5, timeoutMs: 1000, argv: ["cat"], env: [], workdir: "/", user: "", stdin: Buffer.alloc(1) });
  const payload = Buffer.concat([head.subarray(7, head.length - 1), Buffer.alloc(MAX_EXEC_STDIN + 1, "y")]);
  port.write(encodeFrame("E", payload));
  assert.match((await next(ofId("f", 5))).payload.subarray(4).toString(), /stdin too large/);
  assert.equal((await run(6, ["echo", "still here"])).out, "still here\n");
});
