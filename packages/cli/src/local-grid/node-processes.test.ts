// Recorded node processes: every start is kept, down stops every one still running (not a
// reused pid), and forgets them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isRunning, recordProcess, recordedProcesses, stopRecordedProcesses } from "./node-processes.ts";

test("every recorded start is stopped by down, a dead or reused pid is left alone", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-procs-"));
  const marker = join(dir, "zos.json");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const procs = [0, 1].map(() => spawn(process.execPath, ["-e", "setTimeout(() => {}, 300_000)", marker], { stdio: "ignore" })); // argv carries the marker
  t.after(() => { for (const p of procs) p.kill("SIGKILL"); });
  recordProcess(dir, { pid: procs[0]!.pid!, program: "zosd", marker });
  recordProcess(dir, { pid: procs[1]!.pid!, program: "zosd", marker }); // the restarted one
  recordProcess(dir, { pid: process.pid, program: "zosd", marker: "not-this-process" }); // a reused pid
  assert.equal(recordedProcesses(dir).length, 3);
  assert.deepEqual(recordedProcesses(dir).map(isRunning), [true, true, false]);
  const stopped = await stopRecordedProcesses(dir, 2_000);
  assert.deepEqual(stopped.sort(), [procs[0]!.pid!, procs[1]!.pid!].sort());
  await new Promise((r) => setTimeout(r, 100));
  for (const p of procs) assert.ok(p.exitCode !== null || p.signalCode !== null, "stopped");
  assert.deepEqual(recordedProcesses(dir), [], "forgotten");
});
