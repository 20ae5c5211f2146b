// ConsoleStreamer against a real Redis: lines appended to the console after the start are
// published on the URL's channel (earlier lines are not), partial lines wait for their end, and
// the streamer reconnects when Redis comes back after a restart.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { ConsoleStreamer } from "./console-streamer.ts";
import { freePort } from "@zgrid/types/free-port";

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("publishes new console lines to redis://host:port/channel and reconnects", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zlogs-"));
  const port = await freePort();
  const procs: ChildProcess[] = [];
  const sockets: Socket[] = [];
  const redis = () => {
    const p = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    procs.push(p);
    return p;
  };
  const subscriber = async () => {
    const got = { text: "" };
    for (let i = 0; i < 50; i++) {
      const c = connect({ host: "127.0.0.1", port });
      const ok = await new Promise<boolean>((r) => { c.once("connect", () => r(true)); c.once("error", () => r(false)); });
      if (ok) {
        sockets.push(c);
        c.on("data", (d: Buffer) => (got.text += d.toString()));
        c.write("*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\nvmlogs\r\n");
        return got;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("redis did not start");
  };
  const file = join(dir, "console.log");
  writeFileSync(file, "old line before the stream\n");
  const streamer = new ConsoleStreamer(file, `redis://127.0.0.1:${port}/vmlogs`, { policy: new EgressPolicy({ allow: [`127.0.0.1:${port}`] }) });
  t.after(async () => {
    await streamer.stop();
    for (const c of sockets) c.destroy();
    for (const p of procs) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  let server = redis();
  let sub = await subscriber();
  await until("the subscription", () => sub.text.includes("subscribe"));
  streamer.start();
  await new Promise((r) => setTimeout(r, 800));
  appendFileSync(file, "line one\r\nline two\npart");
  await until("two lines", () => sub.text.includes("line two"));
  appendFileSync(file, "ial\n");
  await until("the completed line", () => sub.text.includes("partial"));
  assert.ok(!sub.text.includes("old line"), "earlier lines are not sent");
  assert.match(sub.text, /message\r\n\$6\r\nvmlogs\r\n\$8\r\nline one\r\n\*3\r\n\$7\r\nmessage\r\n\$6\r\nvmlogs\r\n\$8\r\nline two\r\n/);

  // Redis restarts: the streamer reconnects and keeps publishing
  server.kill("SIGKILL");
  await new Promise((r) => server.once("exit", r));
  server = redis();
  await new Promise((r) => setTimeout(r, 500));
  sub = await subscriber();
  await until("the new subscription", () => sub.text.includes("subscribe"));
  await until("a line after the restart", () => {
    appendFileSync(file, "after restart\n");
    return sub.text.includes("after restart");
  });
});
