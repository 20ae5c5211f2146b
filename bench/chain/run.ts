/**
 * Chain benchmark on the dev chain (EDR), through the typed client:
 *   - gas per frequent call (create/update/cancel node contract, report resources, settle, uptime)
 *   - node contracts created per second (one account sequentially; several accounts concurrently)
 *   - settle gas with 10 vs N live contracts (default N = 10,000): settle is O(1), the ratio must be ~1
 *
 *   node bench/chain/run.ts [--live 10000]
 */
import { parseArgs } from "node:util";
import type { TransactionReceipt } from "viem";
import { gridContractsAbi, gridTokenAbi, registryAbi, devAccount, GIB, type GridClient } from "@zgrid/chain";
import { write } from "../../packages/chain/src/client/context.ts";
import { startTestGrid, testHash } from "@zgrid/chain/testing";

const { values } = parseArgs({ options: { live: { type: "string", default: "10000" } } });
const LIVE = Number(values.live);
const g = await startTestGrid({ twins: 5, publicIps: 4 });
let hashN = 1_000_000;
const used = { cru: 2n, mru: 4n * GIB, sru: 50n * GIB, hru: 0n };

try {
  const a = g.chain.addresses;
  const gas = (r: TransactionReceipt) => Number(r.gasUsed);
  const createRaw = (c: GridClient, nodeId: number, ips = 0) =>
    write(c.context, a.contracts, gridContractsAbi, "createNodeContract", [nodeId, testHash(hashN++), "", ips]);
  const idOf = (r: TransactionReceipt) => BigInt(r.logs.find((l) => l.address.toLowerCase() === a.contracts.toLowerCase())!.topics[1]!);

  // ---- gas per call ----
  const rows: [string, number][] = [];
  const rCreate = await createRaw(g.user, g.nodeId1);
  const id = idOf(rCreate);
  rows.push(["createNodeContract (0 IPs)", gas(rCreate)]);
  const rCreateIp = await createRaw(g.user, g.nodeId1, 1);
  rows.push(["createNodeContract (1 public IP)", gas(rCreateIp)]);
  rows.push(["reportContractResources (first)", gas(await write(g.node1.context, a.contracts, gridContractsAbi, "reportContractResources", [id, used]))]);
  rows.push(["reportContractResources (again)", gas(await write(g.node1.context, a.contracts, gridContractsAbi, "reportContractResources", [id, { ...used, cru: 3n }]))]);
  rows.push(["updateNodeContract (new hash)", gas(await write(g.user.context, a.contracts, gridContractsAbi, "updateNodeContract", [id, testHash(hashN++), ""]))]);
  const batchIds: bigint[] = [];
  for (let i = 0; i < 10; i++) batchIds.push(idOf(await createRaw(g.user, g.nodeId1)));
  const batchGas = gas(await write(g.node1.context, a.contracts, gridContractsAbi, "reportContractResourcesBatch", [batchIds, batchIds.map(() => used)]));
  rows.push(["reportContractResourcesBatch, per contract (10)", Math.round(batchGas / 10)]);
  for (const b of batchIds) await write(g.user.context, a.contracts, gridContractsAbi, "cancelContract", [b]);
  await g.chain.advanceTime(3600);
  rows.push(["settle (1 h owed)", gas(await write(g.stranger.context, a.contracts, gridContractsAbi, "settle", [id]))]);
  rows.push(["settle (nothing new)", gas(await write(g.stranger.context, a.contracts, gridContractsAbi, "settle", [id]))]);
  const ts = (await g.now()) + 1n;
  rows.push(["reportUptime", gas(await write(g.node1.context, a.registry, registryAbi, "reportUptime", [3600n, ts]))]);
  rows.push(["cancelContract (0 IPs)", gas(await write(g.user.context, a.contracts, gridContractsAbi, "cancelContract", [id]))]);
  rows.push(["cancelContract (1 public IP)", gas(await write(g.user.context, a.contracts, gridContractsAbi, "cancelContract", [idOf(rCreateIp)]))]);
  // baseline: a plain ERC-20 transfer of the grid token, same client path
  const transferGas = gas(await write(g.user.context, a.token, gridTokenAbi, "transfer", [g.stranger.account!, 1n]));
  console.log("gas per call (dev chain, solc 0.8.30 optimizer 200 runs; baseline = one ERC-20 transfer):");
  console.log(`  ${"ERC-20 transfer (baseline)".padEnd(48)} ${transferGas.toLocaleString("en-US").padStart(9)} gas`);
  for (const [name, g2] of rows) console.log(`  ${name.padEnd(48)} ${g2.toLocaleString("en-US").padStart(9)} gas  x${(g2 / transferGas).toFixed(2)}`);

  // ---- throughput through the client ----
  const N = 300;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) await g.user.transfer(g.stranger.account!, 1n);
  const transfers = N / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < N; i++) await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(hashN++) });
  const seq = N / ((performance.now() - t0) / 1000);
  const extra = [6, 7, 8, 9, 10, 11, 12, 13].map((i) => g.clientFor(devAccount(i).privateKey));
  for (const c of extra) await c.createTwin({ peerId: "bench" });
  const users = [g.user, g.stranger, g.farmer, ...extra];
  t0 = performance.now();
  await Promise.all(users.map(async (c) => { for (let i = 0; i < N / 10; i++) await c.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(hashN++) }); }));
  const par = (users.length * (N / 10)) / ((performance.now() - t0) / 1000);
  console.log(`\nthrough the client, each write waiting for its receipt:`);
  console.log(`  token transfers, 1 account (baseline) ${transfers.toFixed(0).padStart(6)} tx/s`);
  console.log(`  node contracts, 1 account             ${seq.toFixed(0).padStart(6)} contracts/s  (x${(seq / transfers).toFixed(2)} vs transfers)`);
  console.log(`  node contracts, ${users.length} accounts at once   ${par.toFixed(0).padStart(6)} contracts/s  (x${(par / seq).toFixed(2)} vs 1 account)`);

  // ---- settle cost vs number of live contracts ----
  const settleGas = async (): Promise<number> => {
    const r = await createRaw(g.user, g.nodeId1);
    const cid = idOf(r);
    await write(g.node1.context, a.contracts, gridContractsAbi, "reportContractResources", [cid, used]);
    await g.chain.advanceTime(3600);
    const s = gas(await write(g.stranger.context, a.contracts, gridContractsAbi, "settle", [cid]));
    await write(g.user.context, a.contracts, gridContractsAbi, "cancelContract", [cid]);
    return s;
  };
  const liveNow = async () => (await g.admin.listNodeContracts(g.nodeId1)).length + (await g.admin.listNodeContracts(g.nodeId2)).length;
  // start from exactly 10 live contracts
  for (const c of [g.user, ...users.slice(1)]) {
    const twin = await c.twinIdByAccount(c.account!);
    for (const cid of await c.listTwinContracts(twin)) await c.cancelContract(cid);
  }
  for (let i = 0; i < 10; i++) await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(hashN++) });
  const small = await settleGas();
  const smallLive = await liveNow();
  t0 = performance.now();
  const per = Math.ceil((LIVE - 10) / users.length);
  await Promise.all(users.map(async (c) => { for (let i = 0; i < per; i++) await c.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(hashN++) }); }));
  const fill = (per * users.length) / ((performance.now() - t0) / 1000);
  const big = await settleGas();
  const bigLive = await liveNow();
  console.log(`\nsettle gas vs live contracts (filled at ${fill.toFixed(0)} contracts/s):`);
  console.log(`  ${String(smallLive).padStart(6)} live: ${small.toLocaleString("en-US")} gas`);
  console.log(`  ${String(bigLive).padStart(6)} live: ${big.toLocaleString("en-US")} gas`);
  console.log(`  ratio ${(big / small).toFixed(3)} (O(1) settle: ~1)`);
} finally {
  await g.stop();
}
