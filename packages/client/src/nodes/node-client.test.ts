import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NODE_ROUTES, ValidationError, ZERO_CAPACITY } from "@zgrid/types";
import { nodeClient } from "./node-client.ts";

/** A bus that records what is sent and answers from a table (the node's side is tested in zos). */
function answeringBus(answers: Record<string, unknown>) {
  const sent: Array<{ twin: number; command: string; payload: unknown; timeout: number | undefined }> = [];
  return {
    sent,
    request: async <T>(twin: number, command: string, payload?: unknown, o?: { timeout?: number }): Promise<T> => {
      sent.push({ twin, command, payload, timeout: o?.timeout });
      return answers[command] as T;
    },
  };
}

describe("typed node client", () => {
  test("each call goes to its route with its request shape", async () => {
    const cap = { ...ZERO_CAPACITY, cru: 4 };
    const bus = answeringBus({
      [NODE_ROUTES.get.name]: { contract_id: 12 },
      [NODE_ROUTES.statistics.name]: { total: cap, used: cap, system: cap, free: cap, users: { deployments: 0, workloads: 0 } },
      [NODE_ROUTES.privateIps.name]: ["10.1.1.2"],
    });
    const node = nodeClient(bus, 9);
    await node.get(12, { timeout: 5 });
    assert.equal((await node.statistics()).free.cru, 4);
    assert.deepEqual(await node.privateIps("net"), ["10.1.1.2"]);
    assert.deepEqual(bus.sent, [
      { twin: 9, command: "zos.deployment.get", payload: { contract_id: 12 }, timeout: 5 },
      { twin: 9, command: "zos.statistics.get", payload: {}, timeout: undefined },
      { twin: 9, command: "zos.network.list_private_ips", payload: { network_name: "net" }, timeout: undefined },
    ]);
  });

  test("an answer of the wrong shape from a node is refused, not trusted", async () => {
    const node = nodeClient(answeringBus({ [NODE_ROUTES.statistics.name]: { total: "lots" }, [NODE_ROUTES.wireguardPorts.name]: [1, "x"] }), 9);
    await assert.rejects(node.statistics(), ValidationError);
    await assert.rejects(node.wireguardPorts(), ValidationError);
  });

  test("power off goes to zos.system.power_off and its answer is checked", async () => {
    const bus = answeringBus({ [NODE_ROUTES.powerOff.name]: { node_id: 3, state: "standby", switch: "bmc" } });
    assert.deepEqual(await nodeClient(bus, 9).powerOff("idle"), { node_id: 3, state: "standby", switch: "bmc" });
    assert.deepEqual(bus.sent, [{ twin: 9, command: "zos.system.power_off", payload: { reason: "idle" }, timeout: undefined }]);
    await assert.rejects(nodeClient(answeringBus({ [NODE_ROUTES.powerOff.name]: { node_id: 3, state: "up" } }), 9).powerOff(), ValidationError);
  });

  test("power durations come from zos.system.power_durations and a bad answer is refused", async () => {
    const d = { node_id: 3, since: 1_700_000_000, on_seconds: 600, off_seconds: 3000, reserved_core_seconds: 1200, wakes: 2, power_offs: 2 };
    const bus = answeringBus({ [NODE_ROUTES.powerDurations.name]: d });
    assert.deepEqual(await nodeClient(bus, 9).powerDurations(), d);
    assert.deepEqual(bus.sent, [{ twin: 9, command: "zos.system.power_durations", payload: {}, timeout: undefined }]);
    await assert.rejects(nodeClient(answeringBus({ [NODE_ROUTES.powerDurations.name]: { ...d, off_seconds: -5 } }), 9).powerDurations(), ValidationError);
  });
});
