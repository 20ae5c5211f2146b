import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { processDiagnostics, processesMentioning } from "./vm-process.ts";

test("processDiagnostics names this process's state and threads, and a gone one as gone", () => {
  assert.match(processDiagnostics(process.pid), /^process [RSD] utime \d+ stime \d+ wchan .*; threads \d+\/node: /);
  assert.match(processDiagnostics(2 ** 22 + 1), /^process gone wchan \?; threads $/);
});

test("processesMentioning finds a live process by a marker in its command line, not a finished one", async () => {
  const marker = `/tmp/zg-marker-${process.pid}-${Date.now()}/qemu.pid`;
  // the marker is the shell's $0; `; :` keeps the shell itself running (no exec of the last command)
  const child = spawn("sh", ["-c", "sleep 30; :", marker], { stdio: "ignore" });
  const exited = once(child, "exit");
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(processesMentioning(marker), [child.pid]);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  assert.deepEqual(processesMentioning(marker), []);
});
