// Streamed execs (GuestAgent.session) against the real guest agent compiled on the host (no VM):
// stdin arrives while the command runs, a terminal is a terminal of the asked size, resizes reach
// it, the exit code comes back, and a command that stops reading never wedges the stdin window.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_EXEC_STDIN } from "./agent-protocol.ts";
import { GuestAgent, type AgentSession } from "./guest-agent.ts";
import { startHostAgent } from "./zagent-fixture.ts";

/** Collects a session's output; `until` waits for text in it. */
function collector() {
  let text = "";
  let wake = () => undefined as void;
  return {
    onOutput: (_s: "stdout" | "stderr", d: Buffer) => { text += d.toString("utf8"); wake(); },
    get text() { return text; },
    async until(re: RegExp, ms = 10_000): Promise<string> {
      const end = Date.now() + ms;
      while (!re.test(text)) {
        if (Date.now() > end) throw new Error(`no ${re} in the output: ${JSON.stringify(text)}`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
      }
      return text;
    },
  };
}

test("a streamed stdin: each line's echo arrives before stdin closes; EOF ends the command", async (t) => {
  const fx = await startHostAgent();
  const agent = new GuestAgent(fx.socketPath);
  t.after(async () => { agent.close(); await fx.stop(); });
  const out = collector();
  const s: AgentSession = await agent.session({ argv: ["cat"], tty: false, timeoutMs: 20_000, onOutput: out.onOutput });
  assert.equal(s.write(Buffer.from("first line\n")), 11);
  await out.until(/first line\n/);
  s.write(Buffer.from("second\n"));
  await out.until(/second\n/);
  s.closeStdin();
  const r = await s.done;
  assert.equal(r.code, 0);
  assert.equal(out.text, "first line\nsecond\n");
});

test("a terminal: the command sees a tty of the asked size, a resize reaches it, the exit code comes back", async (t) => {
  const fx = await startHostAgent();
  const agent = new GuestAgent(fx.socketPath);
  t.after(async () => { agent.close(); await fx.stop(); });
  const out = collector();
  const s = await agent.session({ argv: ["sh", "-c", "tty; stty size; read line; stty size; echo got:$line; exit 7"], tty: true, rows: 33, cols: 101, timeoutMs: 20_000, onOutput: out.onOutput });
  await out.until(/33 101/);
  assert.match(out.text, /^\/dev\/pts\/\d+\r?$/m);
  s.resize(40, 120);
  await new Promise((r) => setTimeout(r, 200));
  s.write(Buffer.from("hello\r"));
  await out.until(/got:hello/);
  assert.match(out.text, /40 120/);
  const r = await s.done;
  assert.equal(r.code, 7);
});

test("a command that never reads stdin: the window fills and stops; a command that exits frees it", async (t) => {
  const fx = await startHostAgent();
  const agent = new GuestAgent(fx.socketPath);
  t.after(async () => { agent.close(); await fx.stop(); });
  const s = await agent.session({ argv: ["sleep", "30"], tty: false, timeoutMs: 20_000, onOutput: () => undefined });
  // the pipe (64 KiB) and the agent's buffer take some; then nothing more is accepted
  let sent = 0;
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const n = s.write(Buffer.alloc(16_384, "x"));
    sent += n;
    if (n === 0 && sent > 0) { await new Promise((r) => setTimeout(r, 300)); if (s.room() === 0) break; }
  }
  assert.equal(s.room(), 0, "the window closed");
  assert.ok(sent >= MAX_EXEC_STDIN && sent < 4 * 65_536, `sent ${sent}`);
  s.kill(9);
  const r = await s.done;
  assert.equal(r.signal, 9);
  // the agent still serves, and the closed stdin of `true` does not wedge a writer
  const t2 = await agent.session({ argv: ["true"], tty: false, timeoutMs: 20_000, onOutput: () => undefined });
  assert.equal((await t2.done).code, 0);
  assert.equal(t2.room(), 0, "an ended session takes nothing");
});
