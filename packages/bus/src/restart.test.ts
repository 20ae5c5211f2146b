import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { TwinRecord } from "./directory/twin-directory.ts";
import { TestGrid, testTwinRecord } from "./testing/test-twins.ts";

const fixture = fileURLToPath(new URL("./testing/peer-process.ts", import.meta.url));

/** Starts twin `twinId`'s peer in a child process; resolves with its direct addresses. */
async function startPeer(children: ChildProcess[], twinId: number, listen: string[], records: TwinRecord[]): Promise<{ child: ChildProcess; addrs: string[] }> {
  const child = spawn(process.execPath, [fixture], { env: { ...process.env, ZGRID_BUS_PEER: JSON.stringify({ twinId, listen, records }) }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  let out = "";
  child.stdout!.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`peer process exited (${code}) before it was ready`)));
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) resolve({ child, addrs: (JSON.parse(line.slice(6)) as { addrs: string[] }).addrs.map((a) => a.replace(/\/p2p\/.*$/, "")) });
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

describe("restart: a peer in another process dies and comes back", () => {
  test("requests in flight are resent after reconnect; a new address is picked up from the directory", async (t) => {
    const children: ChildProcess[] = [];
    const grid = new TestGrid();
    t.after(async () => {
      await Promise.all(children.map(kill));
      await grid.close();
    });
    const a = await grid.bus({ twinId: 1 });
    const records = [(await grid.directory.getTwin(1))!];

    const first = await startPeer(children, 2, ["/ip4/127.0.0.1/tcp/0"], records);
    grid.directory.set(testTwinRecord(2, first.addrs));
    assert.equal(await a.request(2, "pid", null, { timeout: 10_000 }), first.child.pid);

    // Kill B while a request is being handled, restart it on the same port: the request is resent.
    const pending = a.request(2, "slow-echo", { ms: 800, value: "survived" }, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 200));
    await kill(first.child);
    const second = await startPeer(children, 2, first.addrs, records);
    assert.equal(await pending, "survived");
    assert.equal(await a.request(2, "pid", null, { timeout: 10_000 }), second.child.pid);

    // B comes back on another port; the twin-updated event makes A dial the new address.
    await kill(second.child);
    const third = await startPeer(children, 2, ["/ip4/127.0.0.1/tcp/0"], records);
    assert.notDeepEqual(third.addrs, first.addrs);
    grid.directory.set(testTwinRecord(2, third.addrs));
    assert.equal(await a.request(2, "pid", null, { timeout: 10_000 }), third.child.pid);
    assert.deepEqual(a.metrics().outbound.errors, {});
  });
});
