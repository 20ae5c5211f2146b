// The CLI side of `vm exec -i`: a node double that takes at most 5 bytes of stdin per call (as a
// full command buffer does) and echoes what it took. Every byte arrives once and in order, EOF is
// sent only with the last byte, output is written as it comes, and the exit ends the stream.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { VmExecIoAnswer } from "@zgrid/types";
import { runExecStream, type ExecStream } from "./vm-exec-stream.ts";

test("stdin the node did not take is sent again; EOF goes with the last byte; the exit ends the stream", async () => {
  const got: Buffer[] = [];
  let eofAt = -1;
  let calls = 0;
  let queued: Buffer[] = [];
  const node: ExecStream = {
    async io(r) {
      calls++;
      if (calls > 500) throw new Error("runaway");
      const bytes = r.stdin ? Buffer.from(r.stdin, "base64") : Buffer.alloc(0);
      const taken = bytes.subarray(0, 5);
      got.push(taken);
      if (taken.length) queued.push(taken);
      if (r.eof && taken.length === bytes.length) eofAt = Buffer.concat(got).length;
      const out: VmExecIoAnswer = { output: queued.map((d) => ({ stream: "stdout" as const, data: d.toString("base64") })), stdin_taken: taken.length };
      queued = [];
      if (eofAt >= 0 && !r.stdin) return { ...out, exit: { exit_code: 4, signal: null, timed_out: false, reason: "" } };
      if (!r.stdin) await new Promise((res) => setTimeout(res, Math.min(r.wait_ms ?? 0, 20)));
      return out;
    },
  };
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let printed = "";
  stdout.on("data", (c: Buffer) => { printed += c.toString(); });
  const done = runExecStream(node, { tty: false, interactive: true, stdin: stdin as unknown as NodeJS.ReadStream, stdout, stderr: new PassThrough() });
  stdin.write("hello streamed ");
  await new Promise((r) => setTimeout(r, 50));
  stdin.end("world\n");
  const exit = await done;
  assert.equal(exit.exit_code, 4);
  assert.equal(Buffer.concat(got).toString(), "hello streamed world\n");
  assert.equal(eofAt, "hello streamed world\n".length, "EOF only after every byte was taken");
  assert.equal(printed, "hello streamed world\n");
});
