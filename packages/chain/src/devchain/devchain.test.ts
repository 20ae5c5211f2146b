// The dev chain as a separate process (bin/devchain.ts): a real JSON-RPC server other processes use,
// and a state file that keeps the chain across a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { createGridClient } from "../client/create-grid-client.ts";
import { testHash } from "./test-grid.ts";
import { GIB } from "../pricing.ts";
import type { GridAddresses } from "../abis.ts";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "devchain.ts");

interface Info { rpcUrl: string; restored: boolean; addresses: GridAddresses; twins: { twinId: number; privateKey: `0x${string}`; address: `0x${string}` }[] }

async function launch(stateFile: string): Promise<{ child: ChildProcess; info: Info }> {
  const child = spawn(process.execPath, [bin, "--port", "0", "--json", "--state", stateFile, "--twins", "3"], { stdio: ["ignore", "pipe", "pipe"] });
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<Info>((resolve, reject) => {
    lines.once("line", (l) => resolve(JSON.parse(l) as Info));
    child.once("exit", (code) => reject(new Error(`devchain exited with ${code}`)));
  });
  return { child, info };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

test("bin/devchain.ts serves other processes and restores its state from the state file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-devchain-"));
  const stateFile = join(dir, "chain.jsonl");
  const children: ChildProcess[] = [];
  t.after(async () => { for (const c of children) await terminate(c); rmSync(dir, { recursive: true, force: true }); });

  const first = await launch(stateFile);
  children.push(first.child);
  assert.equal(first.info.restored, false);
  assert.match(first.info.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const [farmerKey, nodeKey, userKey] = first.info.twins.map((x) => x.privateKey) as [`0x${string}`, `0x${string}`, `0x${string}`];
  const connect = (info: Info, key: `0x${string}`) => createGridClient({ rpcUrl: info.rpcUrl, addresses: info.addresses, account: key, pollingIntervalMs: 20 });
  const farmer = connect(first.info, farmerKey);
  const farmId = await farmer.createFarm({ name: "persisted" });
  await farmer.addFarmIp(farmId, { ip: "10.10.0.2/24", gateway: "10.10.0.1" });
  const nodeId = await connect(first.info, nodeKey).registerNode({ farmId, resources: { cru: 4n, mru: 8n * GIB, sru: 100n * GIB, hru: 0n } });
  const user = connect(first.info, userKey);
  const contractId = await user.createNodeContract({ nodeId, deploymentHash: testHash(5), publicIps: 1, metadata: "kept" });
  // time travel is journaled too
  const rpc = async (url: string, method: string, params: unknown[] = []) =>
    ((await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) })).json()) as { result: unknown }).result;
  await rpc(first.info.rpcUrl, "evm_increaseTime", [7200]);
  await rpc(first.info.rpcUrl, "evm_mine");
  const before = await user.publicClient.getBlock({ blockTag: "latest" });
  const balanceBefore = await user.balanceOf();
  await terminate(first.child);

  const second = await launch(stateFile);
  children.push(second.child);
  assert.equal(second.info.restored, true);
  assert.deepEqual(second.info.addresses, first.info.addresses);
  const again = connect(second.info, userKey);
  const after = await again.publicClient.getBlock({ blockTag: "latest" });
  assert.equal(after.number, before.number);
  assert.equal(after.timestamp, before.timestamp);
  assert.equal(after.stateRoot, before.stateRoot);
  const c = await again.getContract(contractId);
  assert.equal(c.metadata, "kept");
  assert.equal(c.publicIps[0]?.ip, "10.10.0.2/24");
  assert.equal(await again.balanceOf(), balanceBefore);
  assert.equal((await again.getFarm(farmId)).name, "persisted");
  // and the restored chain keeps working
  await again.cancelContract(contractId);
  assert.equal((await again.getContract(contractId)).state, "deleted");
});
