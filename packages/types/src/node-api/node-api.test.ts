import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../errors/validation-error.ts";
import { NODE_ROUTES, NODE_ROUTE_NAMES, parseNodeRequest, parseNodeResponse } from "./node-api.ts";
import { ANSWER_CHECKED, ROUTE_NAME_OF } from "./node-route-names.ts";

describe("node API route table", () => {
  test("every route has a distinct zos.* name", () => {
    assert.equal(new Set(NODE_ROUTE_NAMES).size, Object.keys(NODE_ROUTES).length);
    for (const n of NODE_ROUTE_NAMES) assert.match(n, /^zos\.[a-z_]+\.[a-z_]+$/);
  });

  test("the zod-free half (names, checked answers) says what the schema table says", () => {
    assert.deepEqual(Object.keys(ROUTE_NAME_OF).sort(), Object.keys(NODE_ROUTES).sort());
    for (const [key, route] of Object.entries(NODE_ROUTES)) {
      assert.equal(route.name, ROUTE_NAME_OF[key as keyof typeof ROUTE_NAME_OF], key);
      assert.equal(ANSWER_CHECKED.has(key as keyof typeof ROUTE_NAME_OF), "response" in route, `${key}: answer checked iff it has a response schema`);
    }
  });

  test("requests off the wire are checked and a bad one names its field", () => {
    assert.deepEqual(parseNodeRequest("get", { contract_id: 12 }), { contract_id: 12 });
    for (const bad of [null, {}, { contract_id: 0 }, { contract_id: "12" }, { contract_id: 1.5 }, { contract_id: 2 ** 60 }]) {
      assert.throws(() => parseNodeRequest("get", bad), (e: unknown) => e instanceof ValidationError && e.field === "contract_id");
    }
    assert.throws(() => parseNodeRequest("privateIps", { network_name: "" }), (e: unknown) => e instanceof ValidationError && e.field === "network_name");
    assert.throws(() => parseNodeRequest("privateIps", { network_name: "x".repeat(300) }), ValidationError);
    assert.deepEqual(parseNodeRequest("list", null), {});
  });

  test("a node's answer is checked where the client reads it", () => {
    const cap = { cru: 1, mru: 2, sru: 3, hru: 4, ipv4u: 0 };
    const stats = { total: cap, used: cap, system: cap, free: cap, users: { deployments: 1, workloads: 2 } };
    // an older node's answer has no movable count: none of its deployments consented to moves
    assert.deepEqual(parseNodeResponse("statistics", stats), { ...stats, users: { ...stats.users, movable_deployments: 0 } });
    const movable = { ...stats, users: { deployments: 1, workloads: 2, movable_deployments: 1 } };
    assert.deepEqual(parseNodeResponse("statistics", movable), movable);
    assert.throws(() => parseNodeResponse("statistics", { ...stats, users: { ...stats.users, movable_deployments: -1 } }), ValidationError);
    assert.throws(() => parseNodeResponse("statistics", { ...stats, free: { ...cap, mru: -1 } }), (e: unknown) => e instanceof ValidationError && e.field === "zos.statistics.get answer.free.mru");
    assert.throws(() => parseNodeResponse("wireguardPorts", [70000]), ValidationError);
  });
});
