import assert from "node:assert/strict";
import { test } from "node:test";
import type { Replica } from "./observe.ts";
import { healReason } from "./reconcile-service.ts";

const replica = (name: string, nodeId: number, state: Replica["state"]): Replica =>
  ({ name, contractId: 1, nodeId, nodeTwinId: 1, ip: "", hash: "h", generation: 1, state, message: "" });

test("a replacement is a heal (counted in zgrid_bot_heals_total) when a replica was lost with its node or failed; not a scale-up", () => {
  assert.equal(healReason([replica("web_1", 3, "lost"), replica("web_2", 3, "lost")], []), "heal: node 3 is dead");
  assert.equal(healReason([], [replica("web_4", 2, "failed")]), "heal: replica web_4 failed");
  assert.equal(healReason([], []), undefined);
});
