import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@zgrid/log";
import { NodeDrainingError, NotFarmTwinError, PowerControl, PowerOffRefusedError, type PowerChain } from "./power-off.ts";

// The chain here is a recording double (the real chain path runs in bot/src/farmer/farmerbot.e2e.test.ts).
function setup(o: { deployments?: number; rent?: number; switchKind?: "none" | "bmc"; landOnStateChange?: boolean } = {}) {
  const events: string[] = [];
  let deployments = o.deployments ?? 0;
  const chain: PowerChain = {
    getFarm: async () => ({ twinId: 1 }),
    rentContractOf: async () => o.rent ?? 0,
    setPowerState: async (up) => {
      events.push(`state ${up ? "up" : "down"}`);
      if (o.landOnStateChange) deployments = 1;
    },
  };
  const power = new PowerControl({ nodeId: 3, farmId: 1, chain, switchKind: o.switchKind ?? "bmc", liveDeployments: () => deployments,
    onOff: () => void events.push("off"), log: createLogger("test"), graceMs: 5 });
  return { power, events };
}

describe("power off", () => {
  test("any twin but the farm's is refused and nothing changes", async () => {
    const { power, events } = setup();
    await assert.rejects(power.powerOff(4, { reason: "" }), NotFarmTwinError);
    assert.deepEqual(events, []);
    power.assertAccepting();
  });

  test("a node with workloads, a rented node, a node without switch is never powered off", async () => {
    for (const [o, re] of [[{ deployments: 1 }, /holds 1 deployment/], [{ rent: 9 }, /rented \(contract 9\)/], [{ switchKind: "none" as const }, /no power switch/]] as const) {
      const { power, events } = setup(o);
      await assert.rejects(power.powerOff(1, { reason: "" }), (e: unknown) => e instanceof PowerOffRefusedError && re.test(e.message));
      assert.deepEqual(events, []);
      power.assertAccepting();
    }
  });

  test("the farm's twin powers an idle node off: standby on chain, drain, then the switch", async () => {
    const { power, events } = setup();
    assert.deepEqual(await power.powerOff(1, { reason: "idle" }), { node_id: 3, state: "standby", switch: "bmc" });
    assert.throws(() => power.assertAccepting(), NodeDrainingError);
    assert.deepEqual(events, ["state down"]);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(events, ["state down", "off"]);
  });

  test("a deployment that lands while the chain call runs cancels the power-off", async () => {
    const { power, events } = setup({ landOnStateChange: true });
    await assert.rejects(power.powerOff(1, { reason: "" }), /accepted a deployment while draining/);
    assert.deepEqual(events, ["state down", "state up"]);
    power.assertAccepting();
  });
});
