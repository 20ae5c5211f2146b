/**
 * Explorer benchmark:
 *   1. index throughput (events/s) of the indexer into SQLite and PostgreSQL vs raw `eth_getLogs`
 *      over the same block range (baseline, same run, same dev chain);
 *   2. API latency p50/p99 of a filtered node query at N seeded nodes (default 10,000) on SQLite
 *      and PostgreSQL, vs the API's floor (a static JSON route over the same HTTP stack).
 *
 *   node bench/explorer/run.ts [--contracts 200] [--nodes 10000] [--requests 400] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { GIB } from "@zgrid/chain";
import { startTestGrid, testHash } from "@zgrid/chain/testing";
import { Indexer, rpcChainSource, startExplorer, type Db } from "@zgrid/explorer";
import { TestDatabases } from "../../packages/explorer/src/testing/db-backends.ts";

const { values } = parseArgs({ options: { contracts: { type: "string", default: "200" }, nodes: { type: "string", default: "10000" }, requests: { type: "string", default: "400" }, rounds: { type: "string", default: "5" } } });
const GiB = 2 ** 30;
const CONTRACTS = Number(values.contracts), NODES = Number(values.nodes), REQUESTS = Number(values.requests), ROUNDS = Number(values.rounds);
const dbs = new TestDatabases();
const g = await startTestGrid({ publicIps: 4 });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

try {
  // ---- 1. index throughput ----
  console.log(`generating events: ${CONTRACTS} node contracts, resource reports in batches of 20, uptime reports …`);
  const ids: number[] = [];
  for (let i = 0; i < CONTRACTS; i++) ids.push(await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(7_000_000 + i) }));
  for (let i = 0; i < ids.length; i += 20) {
    await g.node1.reportContractResourcesBatch(ids.slice(i, i + 20).map((contractId) => ({ contractId, used: { cru: 1n, mru: GIB, sru: 10n * GIB, hru: 0n } })));
  }
  for (let i = 0; i < CONTRACTS / 2; i++) await g.node1.reportUptime(BigInt(i), await g.now());
  const head = await g.chain.publicClient.getBlockNumber();
  const a = g.chain.addresses;
  // each figure is the median of ROUNDS runs (the first run of anything pays for cold caches and JIT)
  const median = (xs: number[]) => pct(xs, 50);
  const rawTimes: number[] = [];
  let rawCount = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    rawCount = (await g.chain.publicClient.getLogs({ address: [a.token, a.registry, a.contracts, a.governance], fromBlock: 0n, toBlock: head })).length;
    rawTimes.push((performance.now() - t0) / 1000);
  }
  const rawS = median(rawTimes);
  console.log(`\nindex of blocks 0..${head}: ${rawCount} events (medians of ${ROUNDS} runs)`);
  console.log(`  baseline raw eth_getLogs (one call):  ${(rawCount / rawS).toFixed(0).padStart(8)} events/s  (${(rawS * 1000).toFixed(0)} ms)`);
  for (const backend of ["sqlite", "postgres"] as const) {
    const times: number[] = [];
    let n = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const db = await dbs.open(await dbs.url(backend));
      const indexer = new Indexer({ db, source: rpcChainSource({ rpcUrl: g.chain.rpcUrl, addresses: a }) });
      const t0 = performance.now();
      n = await indexer.syncOnce();
      times.push((performance.now() - t0) / 1000);
    }
    const s = median(times);
    console.log(`  indexer into ${backend.padEnd(8)} (decode, enrich, store): ${(n / s).toFixed(0).padStart(8)} events/s  (${(s * 1000).toFixed(0)} ms)  ratio to raw ${((n / s) / (rawCount / rawS)).toFixed(3)}`);
  }

  // ---- 2. API latency at N seeded nodes ----
  console.log(`\nAPI: filtered node query at ${NODES} seeded nodes, ${REQUESTS} requests each`);
  const query = `/api/v1/nodes?status=up&free_mru=${8 * GiB}&free_sru=${100 * GiB}&country=BE&sort_by=free_mru&sort_order=desc&size=50`;
  for (const backend of ["sqlite", "postgres"] as const) {
    const db = await dbs.open(await dbs.url(backend));
    await seed(db, NODES);
    const explorer = await startExplorer({ db, rpcUrl: g.chain.rpcUrl, addresses: a, indexPollMs: 60_000, windows: { liveWindowMs: 3_600_000, uptimeWindowSec: 3_600 } });
    try {
      const time = async (path: string) => {
        const out: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          const t = performance.now();
          const r = await fetch(explorer.url + path);
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
          out.push(performance.now() - t);
        }
        return out;
      };
      await time("/api/v1/openapi.json"); // warm up
      const floor = await time("/api/v1/openapi.json");
      const filtered = await time(query);
      const first = (await (await fetch(explorer.url + query)).json()) as { total: number };
      console.log(`  ${backend.padEnd(8)} matches ${first.total}: p50 ${pct(filtered, 50).toFixed(2)} ms, p99 ${pct(filtered, 99).toFixed(2)} ms` +
        `  | floor (static route) p50 ${pct(floor, 50).toFixed(2)} ms, p99 ${pct(floor, 99).toFixed(2)} ms  | ratio p50 ${(pct(filtered, 50) / pct(floor, 50)).toFixed(1)}×`);
    } finally {
      await explorer.stop();
    }
  }
} finally {
  await g.stop();
  await dbs.close();
}

/** N nodes in 100 farms with live answers: a third in BE, varied free capacity, some in standby. */
async function seed(db: Db, n: number): Promise<void> {
  const now = Date.now(), nowS = Math.floor(now / 1000);
  await db.tx(async (t) => {
    for (let f = 1; f <= 100; f++) await t.run("INSERT INTO farms (id, twin_id, name, pricing_policy_id, dedicated, created_block) VALUES (?, ?, ?, 1, 0, 0)", [f + 1000, f, `seed-farm-${f}`]);
    for (let start = 0; start < n; start += 200) {
      const rows: string[] = [], live: string[] = [];
      const args: (string | number)[] = [], largs: number[] = [];
      for (let i = start; i < Math.min(n, start + 200); i++) {
        const id = 100_000 + i;
        rows.push("(?, ?, ?, 16, ?, ?, 0, ?, ?, '', '', '', '', '', '', '', 0, 0, '', 0, 0, 100, ?, ?, 1, 0, 0, 0, 0)");
        args.push(id, 1001 + (i % 100), 100_000 + i, 64 * GiB, 1024 * GiB, ["BE", "NL", "DE"][i % 3]!, `city-${i % 50}`, nowS, i % 10 === 0 ? 0 : 1);
        live.push("(?, ?, ?, 0, 'seed', 64, ?, ?, 0, 0, 0, 0, 0, 0, 0)");
        largs.push(id, now, now, ((i * 7919) % 64) * GiB, ((i * 104_729) % 1024) * GiB);
      }
      await t.run(`INSERT INTO nodes (id, farm_id, twin_id, cru, mru, sru, hru, country, city, latitude, longitude, ip4, gw4, ip6, gw6, domain,
        secure_boot, virtualized, serial, created_at, updated_at, uptime, last_uptime_report, power_target_up, power_state_up, power_changed_at,
        rent_contract_id, rented_by, deleted) VALUES ${rows.join(", ")}`, args);
      await t.run(`INSERT INTO node_live (node_id, last_seen, last_try, failures, version, free_cru, free_mru, free_sru, free_hru,
        used_cru, used_mru, used_sru, used_hru, deployments, workloads) VALUES ${live.join(", ")}`, largs);
    }
  });
  if (db.dialect === "postgres") await db.run("ANALYZE");
}
