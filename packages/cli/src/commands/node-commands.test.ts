import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { createOutput } from "../output.ts";
import { registerNodeCommands } from "./node-commands.ts";

/** Runs `zgrid nodes ls …` against a data dir with no grid: what it throws. */
async function nodesLs(...args: string[]): Promise<Error & { hint?: string; code?: string }> {
  const program = new Command("zgrid").exitOverride();
  registerNodeCommands(program, () => ({ opts: { json: true, dataDir: "/nonexistent/zgrid-test" }, io: createOutput({ json: true }) }));
  try {
    await program.parseAsync(["node", "zgrid", "nodes", "ls", ...args]);
  } catch (e) {
    return e as Error;
  }
  assert.fail("nodes ls without a grid must fail");
}

test("nodes ls --wait: outside 0.1–600 s or not a number is refused with what was wrong and an example, before any grid is asked", async () => {
  for (const bad of ["0", "0.05", "601", "-1", "abc", "Infinity", "NaN", "1e9", ""]) {
    const e = await nodesLs("--wait", bad);
    assert.match(e.message.split("\n")[0]!, new RegExp(`^--wait ${bad} is not a number of seconds between 0\\.1 and 600$`), `--wait '${bad}'`);
    assert.equal(e.hint, "e.g. --wait 30");
    assert.equal(e.code, "INPUT");
  }
  // a long value is cut in the message (it is echoed back)
  assert.equal((await nodesLs("--wait", "9".repeat(500))).message.split("\n")[0]!.length < 120, true);
  // in range: the wait is accepted and the command goes on to the grid (absent here): another error
  for (const good of ["0.1", "4", "30", "600"]) assert.doesNotMatch((await nodesLs("--wait", good)).message, /--wait/);
});
