// The node finder's placement against the REAL dev chain (farm, node records, power state are
// real transactions); the nodes' live statistics come from a bus that answers for each node twin
// (the node side of `zos.statistics.get` is tested in zos).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createGridClient, startDevChain, GIB, type DevChain } from "@zgrid/chain";
import { NODE_ROUTES, ZERO_CAPACITY, type Capacity } from "@zgrid/types";
import { NoCapacityError } from "../errors/client-errors.ts";
import { NodeFinder } from "./node-finder.ts";

const GiB = Number(GIB);

describe("node finder placement (pack by default, spread on request, standby last)", () => {
  let chain: DevChain;
  let finder: NodeFinder;
  /** Free capacity each node twin reports; a twin absent here does not answer. */
  const free = new Map<number, Capacity>();
  /** Milliseconds a node twin takes to answer (absent: at once). */
  const slow = new Map<number, number>();
  const ids: number[] = [];

  before(async () => {
    chain = await startDevChain({ twins: 5 });
    const client = (i: number) => createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: chain.twins[i]!.privateKey, pollingIntervalMs: 5 });
    const farmer = client(0);
    const farmId = await farmer.createFarm({ name: "placement-farm" });
    for (let i = 1; i <= 4; i++) {
      // only node 1 has a public IPv6 (its farm's v6 range on its public config)
      const v6 = i === 1 ? { publicConfig: { ip6: "2001:db8::11/64", gw6: "2001:db8::1" } } : {};
      ids.push(await client(i).registerNode({ farmId, resources: { cru: 32n, mru: 64n * GIB, sru: 512n * GIB, hru: 0n }, interfaces: [{ name: "eth0", mac: `02:00:00:00:02:0${i}`, ips: [] }], ...v6 }));
    }
    // node 4 is in standby (powered off by its farm's bot): it does not answer.
    await client(4).setPowerState(false);
    // answers after `slow`'s delay for that twin; like the real bus, gives up at the caller's timeout
    const bus = {
      request: async <T>(twin: number, command: string, _payload?: unknown, o: { timeout?: number } = {}): Promise<T> => {
        const f = free.get(twin);
        if (command !== NODE_ROUTES.statistics.name || !f) throw new Error("no answer");
        const delay = slow.get(twin) ?? 0;
        if (delay > (o.timeout ?? 30_000)) {
          await new Promise((r) => setTimeout(r, o.timeout));
          throw new Error("timed out");
        }
        await new Promise((r) => setTimeout(r, delay));
        return { total: f, used: ZERO_CAPACITY, system: ZERO_CAPACITY, free: f, users: { deployments: 1, workloads: 1 } } as T;
      },
    };
    finder = new NodeFinder({ chain: farmer, bus: async () => bus, twinId: chain.twins[0]!.twinId });
    const cap = (cru: number, mruGiB: number): Capacity => ({ ...ZERO_CAPACITY, cru, mru: mruGiB * GiB, sru: 400 * GiB });
    free.set(chain.twins[1]!.twinId, cap(100, 50)); // nearly empty
    free.set(chain.twins[2]!.twinId, cap(20, 6)); // fullest
    free.set(chain.twins[3]!.twinId, cap(60, 20));
  });
  after(async () => {
    await chain?.stop();
  });

  test("pack: the fullest awake node that fits", async () => {
    assert.equal((await finder.pick({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0 })).nodeId, ids[1]);
    assert.equal((await finder.pick({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0 }, { placement: "pack" })).nodeId, ids[1]);
    // too big for the fullest: the next fullest that fits, not the emptiest
    assert.equal((await finder.pick({ cru: 2, mru: 8 * GiB, sru: 0, hru: 0 })).nodeId, ids[2]);
  });

  test("a public IPv6 needs a node with a v6 range: the others are not offered, whatever the policy", async () => {
    assert.equal((await finder.pick({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0 }, { ipv6: true })).nodeId, ids[0]);
    assert.deepEqual((await finder.list({ ipv6: true })).map((n) => n.nodeId), [ids[0]]);
    assert.equal((await finder.list({})).find((n) => n.nodeId === ids[1])?.ipv6, false);
  });

  test("spread: the emptiest awake node", async () => {
    assert.equal((await finder.pick({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0 }, { placement: "spread" })).nodeId, ids[0]);
  });

  test("a standby node is offered only when no awake node fits, in either policy", async () => {
    for (const placement of ["pack", "spread"] as const) {
      const n = await finder.pick({ cru: 2, mru: 52 * GiB, sru: 0, hru: 0 }, { placement });
      assert.deepEqual([n.nodeId, n.standby, n.up], [ids[3], true, false]);
    }
  });

  test("nothing fits, not even a woken node: NoCapacityError names the closest node", async () => {
    await assert.rejects(finder.pick({ cru: 2, mru: 200 * GiB, sru: 0, hru: 0 }), (e: unknown) => e instanceof NoCapacityError && /the most is 50 GiB on node 1/.test(e.message));
  });

  test("a node slower to answer than a listing waits is not up in the list, but is when named (get with a longer wait)", async () => {
    const twin = chain.twins[3]!.twinId;
    slow.set(twin, 5_000);
    try {
      assert.equal((await finder.list({ includeDown: true })).find((n) => n.nodeId === ids[2])?.up, false);
      const named = await finder.get(ids[2]!, { answerWithinMs: 10_000 });
      assert.equal(named.up, true);
      assert.equal(named.free.cru, 60);
    } finally {
      slow.delete(twin);
    }
  });
});
