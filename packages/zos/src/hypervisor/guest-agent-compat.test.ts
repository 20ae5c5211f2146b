// A VM keeps the guest agent it booted with across a zosd upgrade. Today's host side against the
// real agents of earlier releases, compiled on the host (no VM): what they can do works, what they
// cannot is refused at once with the agent's version and what to do — never a wait until the
// command's time limit. Also the node side (ExecSessions: the `vm exec -i/-t` route) on such a VM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ExecSessions } from "../primitives/zmachine/exec-sessions.ts";
import { AGENT_VERSION, GuestAgent } from "./guest-agent.ts";
import { VmAgentError } from "./errors.ts";
import { OLD_AGENT_SOURCES, startHostAgent } from "./zagent-fixture.ts";

/** A long time limit: a refusal that waited for it would time the test out. */
const LONG = 600_000;

async function agentOf(t: { after(fn: () => Promise<void>): void }, opts: Parameters<typeof startHostAgent>[0]) {
  const fx = await startHostAgent(opts);
  const agent = new GuestAgent(fx.socketPath);
  t.after(async () => { agent.close(); await fx.stop(); });
  await agent.connect();
  return agent;
}

function isOldAgentRefusal(what: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof VmAgentError, String(e));
    assert.match(e.message, /guest agent \(version 1\b/);
    assert.match(e.message, what);
    assert.match(e.hint ?? "", /zgrid vm restart NAME/);
    assert.match(e.hint ?? "", new RegExp(`version ${AGENT_VERSION}`));
    return true;
  };
}

test("today's agent says version 2 and runs a streamed command without a check", async (t) => {
  const agent = await agentOf(t, {});
  assert.equal(agent.version, AGENT_VERSION);
  let out = "";
  const s = await agent.session({ argv: ["sh", "-c", "echo streamed; exit 3"], tty: false, timeoutMs: 20_000, onOutput: (_s, d) => { out += d.toString(); } });
  assert.equal((await s.done).code, 3);
  assert.equal(out, "streamed\n");
});

test("the agent of main f5b16ef (version 1, no streamed frames): exec and stdin work; vm exec -i/-t is refused at once, and the connection stays usable", async (t) => {
  const agent = await agentOf(t, { source: OLD_AGENT_SOURCES.v1NoStream });
  assert.equal(agent.version, 1);
  const r = await agent.exec({ argv: ["echo", "old agent"], timeoutMs: 10_000 });
  assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: "old agent\n" });
  const withStdin = await agent.exec({ argv: ["cat"], stdin: Buffer.from("piped\n"), timeoutMs: 10_000 });
  assert.deepEqual({ code: withStdin.code, stdout: withStdin.stdout }, { code: 0, stdout: "piped\n" });
  await assert.rejects(agent.session({ argv: ["cat"], tty: false, timeoutMs: LONG, onOutput: () => undefined }), isOldAgentRefusal(/streamed command \(vm exec -i\/-t\)/));
  await assert.rejects(agent.session({ argv: ["sh"], tty: true, timeoutMs: LONG, onOutput: () => undefined }), isOldAgentRefusal(/streamed/));
  // two at once: each is refused (the agent answers in order), a plain exec between them still runs
  const [a, b, c] = await Promise.allSettled([
    agent.session({ argv: ["cat"], tty: false, timeoutMs: LONG, onOutput: () => undefined }),
    agent.exec({ argv: ["echo", "between"], timeoutMs: 10_000 }),
    agent.session({ argv: ["cat"], tty: true, timeoutMs: LONG, onOutput: () => undefined }),
  ]);
  assert.equal(a.status, "rejected");
  assert.equal(c.status, "rejected");
  assert.equal(b.status === "fulfilled" ? b.value.stdout : b.reason, "between\n");
  assert.equal((await agent.exec({ argv: ["true"], timeoutMs: 10_000 })).code, 0);
});

test("an agent 1 without the stdin frame (session 4): a command with stdin is refused at once, one without runs", async (t) => {
  const agent = await agentOf(t, { source: OLD_AGENT_SOURCES.v1NoStream, edit: (src) => src.replace("  case 'E':\n", "") });
  await assert.rejects(agent.exec({ argv: ["cat"], stdin: Buffer.from("x"), timeoutMs: LONG }), isOldAgentRefusal(/a command with stdin/));
  assert.equal((await agent.exec({ argv: ["echo", "ok"], timeoutMs: 10_000 })).stdout, "ok\n");
});

test("an agent that says version 1 but has the streamed frames (main efa4356): the check passes and the command streams", async (t) => {
  const agent = await agentOf(t, { edit: (src) => src.replaceAll('"zagent 2"', '"zagent 1"') });
  assert.equal(agent.version, 1);
  let out = "";
  const s = await agent.session({ argv: ["cat"], tty: false, timeoutMs: 20_000, onOutput: (_s, d) => { out += d.toString(); } });
  s.write(Buffer.from("through\n"));
  s.closeStdin();
  assert.equal((await s.done).code, 0);
  assert.equal(out, "through\n");
});

test("the node's vm exec -i on a VM with the old agent: open fails with the agent's version, no session is left", async (t) => {
  const agent = await agentOf(t, { source: OLD_AGENT_SOURCES.v1NoStream });
  const sessions = new ExecSessions({ start: (_vm, o) => agent.session(o) });
  t.after(() => sessions.closeAll());
  await assert.rejects(sessions.open(1, "vm", { argv: ["sh"], tty: true, rows: 24, cols: 80, timeout_sec: 3600 }), isOldAgentRefusal(/streamed/));
  // the twin's session slots are free again: four more opens are each refused the same way (not "too many")
  for (let i = 0; i < 5; i++) {
    await assert.rejects(sessions.open(1, "vm", { argv: ["cat"], tty: false, rows: 24, cols: 80, timeout_sec: 60 }), isOldAgentRefusal(/streamed/));
  }
});
