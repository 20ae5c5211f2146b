// Streamed exec sessions on the node side against the real guest agent compiled on the host (no
// VM): streaming both ways, a terminal, and hostile clients (too many sessions, another twin's
// session, a client that never reads, one that goes away, concurrent and late calls). The node
// never holds more than its bounds and never throws anything but typed errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { VmExecIoAnswer } from "@zgrid/types";
import { GuestAgent } from "../../hypervisor/guest-agent.ts";
import { startHostAgent } from "../../hypervisor/zagent-fixture.ts";
import { ExecSessionLimitError, ExecSessionNotFoundError, ExecSessions, type ExecSessionLimits } from "./exec-sessions.ts";

async function fixture(t: { after(fn: () => Promise<void> | void): void }, limits: Partial<ExecSessionLimits> = {}) {
  const fx = await startHostAgent();
  const agent = new GuestAgent(fx.socketPath);
  const sessions = new ExecSessions({ start: (_vm, o) => agent.session(o), limits });
  t.after(async () => { sessions.closeAll(); agent.close(); await fx.stop(); });
  return { sessions, agent };
}

const text = (r: VmExecIoAnswer) => r.output.map((o) => Buffer.from(o.data, "base64").toString("utf8")).join("");
const b64 = (s: string) => Buffer.from(s).toString("base64");
const open = { tty: false, rows: 24, cols: 80, timeout_sec: 60 };

/** io calls until `re` is in the output (or the exit came); the text and the exit. */
async function readUntil(s: ExecSessions, twin: number, session: string, re: RegExp, ms = 10_000) {
  let out = "";
  const end = Date.now() + ms;
  for (;;) {
    const r = await s.io(twin, { session, wait_ms: 500 });
    out += text(r);
    if (re.test(out) || r.exit) return { out, exit: r.exit };
    if (Date.now() > end) throw new Error(`no ${re} in ${JSON.stringify(out)}`);
  }
}

test("-i streams: a line's echo comes back before stdin closes; EOF ends the command with its exit code", async (t) => {
  const { sessions } = await fixture(t);
  const { session } = await sessions.open(1, "vm", { ...open, argv: ["sh", "-c", "while read l; do echo \"echo:$l\"; done; exit 5"] });
  assert.equal((await sessions.io(1, { session, stdin: b64("one\n"), wait_ms: 0 })).stdin_taken, 4);
  assert.match((await readUntil(sessions, 1, session, /echo:one/)).out, /echo:one\n/);
  await sessions.io(1, { session, stdin: b64("two\n"), eof: true, wait_ms: 0 });
  const end = await readUntil(sessions, 1, session, /\0never/);
  assert.match(end.out, /echo:two/);
  assert.deepEqual(end.exit, { exit_code: 5, signal: null, timed_out: false, reason: "" });
  await assert.rejects(sessions.io(1, { session, wait_ms: 0 }), ExecSessionNotFoundError, "an ended session is gone");
  assert.equal(sessions.count(), 0);
});

test("-t: the command has a terminal of the asked size; resize and exit code pass through", async (t) => {
  const { sessions } = await fixture(t);
  const { session } = await sessions.open(1, "vm", { ...open, tty: true, rows: 30, cols: 90, argv: ["sh", "-c", "tty; stty size; read x; stty size; exit 3"] });
  const first = await readUntil(sessions, 1, session, /30 90/);
  assert.match(first.out, /\/dev\/pts\/\d+/);
  await sessions.io(1, { session, resize: { rows: 50, cols: 132 }, wait_ms: 0 });
  await new Promise((r) => setTimeout(r, 200));
  await sessions.io(1, { session, stdin: b64("\r"), wait_ms: 0 });
  const rest = await readUntil(sessions, 1, session, /\0never/);
  assert.match(rest.out, /50 132/);
  assert.equal(rest.exit?.exit_code, 3);
});

test("bounds: sessions per twin and per node; another twin's session id reads as unknown and is untouched", async (t) => {
  const { sessions } = await fixture(t, { perTwin: 2, perNode: 3 });
  const a = await sessions.open(1, "vm", { ...open, argv: ["sleep", "30"] });
  await sessions.open(1, "vm", { ...open, argv: ["sleep", "30"] });
  await assert.rejects(sessions.open(1, "vm", { ...open, argv: ["sleep", "30"] }), ExecSessionLimitError);
  await sessions.open(2, "vm", { ...open, argv: ["sleep", "30"] });
  await assert.rejects(sessions.open(3, "vm", { ...open, argv: ["sleep", "30"] }), ExecSessionLimitError);
  // twin 2 cannot read, write, signal or close twin 1's session
  await assert.rejects(sessions.io(2, { session: a.session, signal: 9, close: true, wait_ms: 0 }), ExecSessionNotFoundError);
  const still = await sessions.io(1, { session: a.session, wait_ms: 0 });
  assert.equal(still.exit, undefined, "twin 1's command still runs");
  const closed = await sessions.io(1, { session: a.session, close: true, wait_ms: 0 });
  assert.equal(closed.exit?.signal, 9);
  assert.equal(closed.exit?.reason, "closed by the client");
  assert.equal(sessions.count(1), 1);
});

test("a client that never reads: the command is killed once the unread output passes the bound", async (t) => {
  const { sessions } = await fixture(t, { maxUnreadBytes: 64 * 1024 });
  const { session } = await sessions.open(1, "vm", { ...open, argv: ["yes", "flood"] });
  await new Promise((r) => setTimeout(r, 1500));
  let held = 0;
  let exit;
  for (let i = 0; i < 50 && !exit; i++) {
    const r = await sessions.io(1, { session, wait_ms: 200 });
    held += r.output.reduce((n, o) => n + Buffer.from(o.data, "base64").length, 0);
    exit = r.exit;
  }
  assert.ok(exit, "the command ended");
  assert.equal(exit.signal, 9);
  assert.match(exit.reason, /did not read the output/);
  assert.ok(held <= 64 * 1024, `the node held ${held} bytes`);
});

test("a client that goes away: the idle timeout kills the command and drops the session", async (t) => {
  const { sessions, agent } = await fixture(t, { idleMs: 400 });
  const { session } = await sessions.open(1, "vm", { ...open, argv: ["sh", "-c", "echo started; exec sleep 60"] });
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(sessions.count(), 0);
  await assert.rejects(sessions.io(1, { session, wait_ms: 0 }), ExecSessionNotFoundError);
  // the agent freed the exec: it still serves
  assert.equal((await agent.exec({ argv: ["echo", "ok"], timeoutMs: 5000 })).stdout, "ok\n");
});

test("hostile calls: stdin past the window is not taken, a second waiting call releases the first, unknown ids refused", async (t) => {
  const { sessions } = await fixture(t);
  const { session } = await sessions.open(1, "vm", { ...open, argv: ["sleep", "30"] });
  let taken = 0;
  let refusedAt = -1;
  for (let i = 0; i < 20; i++) {
    const r = await sessions.io(1, { session, stdin: Buffer.alloc(32 * 1024, "z").toString("base64"), wait_ms: 0 });
    taken += r.stdin_taken;
    if (r.stdin_taken === 0) { refusedAt = i; break; }
  }
  assert.ok(refusedAt > 0, "the window filled and further stdin was not taken");
  assert.ok(taken < 20 * 32 * 1024);
  const first = sessions.io(1, { session, wait_ms: 8000 });
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 100));
  void sessions.io(1, { session, wait_ms: 100 });
  assert.deepEqual((await first).output, []);
  assert.ok(Date.now() - t0 < 4000, "the first waiting call was released");
  await assert.rejects(sessions.io(1, { session: "f".repeat(32), wait_ms: 0 }), ExecSessionNotFoundError);
  const r = await sessions.io(1, { session, close: true, wait_ms: 0 });
  assert.equal(r.exit?.signal, 9);
});
