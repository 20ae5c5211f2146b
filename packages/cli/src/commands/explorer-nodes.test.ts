import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestGrid } from "@zgrid/chain/testing";
import { InputError } from "@zgrid/client";
import { startExplorer } from "@zgrid/explorer";
import { nodesFromExplorer } from "./explorer-nodes.ts";

test("nodes ls --explorer: the explorer's list, its up filter and its errors", async (t) => {
  const grid = await startTestGrid();
  // no bus: the explorer hears from no node, so none is up
  const explorer = await startExplorer({ rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses, indexPollMs: 100 });
  t.after(async () => { await explorer.stop(); await grid.stop(); });
  for (let i = 0; i < 100 && (await explorer.db.all("SELECT id FROM nodes")).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  const all = await nodesFromExplorer(explorer.url, { includeDown: true, includeRented: true });
  assert.deepEqual(all.map((n) => [n.nodeId, n.up, n.farmId]).sort(), [[grid.nodeId1, false, grid.farmId], [grid.nodeId2, false, grid.farmId]]);
  assert.equal(all.find((n) => n.nodeId === grid.nodeId1)?.country, "BE");
  assert.deepEqual(await nodesFromExplorer(explorer.url, {}), [], "down nodes are not listed by default");
  await assert.rejects(nodesFromExplorer("not a url", {}), InputError);
  await assert.rejects(nodesFromExplorer(explorer.url, { cru: -1 }), /explorer refused the query: 'free_cru' must be a whole number/);
});
