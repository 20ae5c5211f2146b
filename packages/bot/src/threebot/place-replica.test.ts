// Placement and a heal's restore plan: the plan is in the bot's DB before the deploy is sent (a
// SIGKILL during the deploy cannot lose it), and a deploy that fails drops it. The grid (node list,
// deploy) is a labelled test double here: the real SDK deploy is covered by the bot e2e.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Grid } from "@zgrid/client";
import { planHealRestore } from "./backup/heal-restore.ts";
import { openBotStore } from "./bot-store.ts";
import type { BotEnv } from "./observe.ts";
import { placeReplica } from "./place-replica.ts";
import { parseBotSpec, replicaHash } from "./service-spec.ts";

test("a heal's restore is planned before the deploy and dropped when the deploy fails", async (t) => {
  const store = openBotStore(":memory:");
  t.after(async () => store.close());
  store.putBackup({ service: "db", replica: "db_1", disk: "data", manifest: "cd".repeat(32), takenAt: 5, nodeId: 1, size: 8 << 20, uploadedBlocks: 1 });
  const deployed: string[] = [];
  let fail = false;
  const grid = {
    // TEST DOUBLE of the SDK: two nodes with capacity; deploy records what the DB held when it was called
    nodes: { list: async () => [{ nodeId: 1 }, { nodeId: 2 }] },
    vms: {
      deploy: async (m: { name: string }) => {
        deployed.push(`${m.name}: ${store.restores("db").filter((r) => r.replica === m.name).map((r) => `${r.disk}<-${r.source}`).join(",")}`);
        if (fail) throw new Error("node 2 refused the deployment");
        return { ip: "10.1.2.3", contractId: 9 };
      },
    },
  } as unknown as Grid;
  const env = {
    grid, store, run: "r1", now: () => Date.now(), log: () => undefined,
    liveness: { dead: () => [1], state: (id: number) => (id === 1 ? "dead" : "alive") },
  } as unknown as BotEnv;
  const [spec] = parseBotSpec({ services: [{ name: "db", flist: "http://127.0.0.1:1/busybox.flist", disks: [{ name: "data", size: 8, mountpoint: "/data", backup: "1h" }] }] }).services;
  const plan = (name: string) => void planHealRestore(env, spec!, "db_1", name);

  const placed = await placeReplica(env, spec!, replicaHash(spec!), new Set([1]), "heal: node 1 is dead", plan);
  assert.ok(placed && "name" in placed && placed.nodeId === 2, JSON.stringify(placed));
  assert.deepEqual(deployed, [`${placed.name}: data<-db_1`], "the plan was in the DB when the deploy was sent");

  fail = true;
  const failed = await placeReplica(env, spec!, replicaHash(spec!), new Set([1]), "heal: node 1 is dead", plan);
  assert.ok(failed && "failed" in failed);
  assert.deepEqual(store.restores("db").map((r) => r.replica), [placed.name], "the failed replica's plan is dropped");
});
