import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { parseZosConfig } from "@zgrid/zos";
import { parseUpgraderConfig } from "@zgrid/upgrader";
import { NODE_PATHS, NodeSetupError, nodeConfigFromEnv } from "./node-config.ts";
import { waitForGas } from "./wait-for-gas.ts";

const A = (n: number) => `0x${String(n).repeat(40).slice(0, 40)}`;
const ENV = {
  ZGRID_FARM: "7", ZGRID_RPC: "http://10.4.0.1:8545", ZGRID_HUB: "http://10.4.0.1:8080/", ZGRID_RELEASE_KEYS: `${A(1)},${A(2)}`,
  ZGRID_NODE_ACCOUNT: A(3), ZGRID_CONTRACTS: JSON.stringify({ token: A(4), registry: A(5), contracts: A(6), governance: A(7) }),
};

test("the boot env becomes configs zosd and the upgrader accept, with the node's paths", () => {
  const c = nodeConfigFromEnv(ENV, "1.2.0");
  const zos = parseZosConfig(c.zos);
  assert.equal(zos.farmId, 7);
  assert.equal(zos.dataDir, `${NODE_PATHS.data}/zos`, "zosd's data dir holds the boot identity seed");
  assert.deepEqual(zos.flist.stores, ["http://10.4.0.1:8080/blocks"]);
  assert.equal(zos.chain.addresses.governance, A(7));
  const up = parseUpgraderConfig(c.upgrader);
  assert.deepEqual(up.initial, { version: "1.2.0", dir: "/opt/zgrid" });
  assert.ok(up.stateDir.startsWith("/run/"), "installed releases live in RAM: no OS files on the disk");
  assert.deepEqual(up.releaseKeys, [A(1), A(2)]);
});

test("a missing or bad boot variable is refused with its name", () => {
  const cases: Array<[Record<string, string | undefined>, RegExp]> = [
    [{ ...ENV, ZGRID_FARM: undefined }, /ZGRID_FARM is not set/],
    [{ ...ENV, ZGRID_FARM: "0" }, /ZGRID_FARM '0' is not a farm id/],
    [{ ...ENV, ZGRID_NODE_ACCOUNT: "0x12" }, /ZGRID_NODE_ACCOUNT/],
    [{ ...ENV, ZGRID_RELEASE_KEYS: "nope" }, /ZGRID_RELEASE_KEYS/],
    [{ ...ENV, ZGRID_CONTRACTS: undefined }, /ZGRID_CONTRACTS is not set/],
    [{ ...ENV, ZGRID_CONTRACTS: "{" }, /ZGRID_CONTRACTS is not JSON/],
    [{ ...ENV, ZGRID_CONTRACTS: JSON.stringify({ token: A(4) }) }, /ZGRID_CONTRACTS.registry is not an address/],
    [{ ...ENV, ZGRID_HUB: "x".repeat(5000) }, /longer than 4096/],
  ];
  for (const [env, re] of cases) assert.throws(() => nodeConfigFromEnv(env, "1.0.0"), (e: unknown) => e instanceof NodeSetupError && re.test(e.message));
  assert.throws(() => nodeConfigFromEnv(ENV, "../../x"), /RELEASE file names no valid version/);
});

test("waitForGas says what to do until the account is funded, says why when the RPC answer is refused (over 4 KiB)", async (t) => {
  let balance = "0x0";
  let huge = false;
  const srv = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(huge ? "x".repeat(10_000) : JSON.stringify({ jsonrpc: "2.0", id: 1, result: balance })));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const said: string[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  const done = waitForGas({ rpcUrl: url, account: A(3), say: (l) => said.push(l), everyMs: 0, pollMs: 20, signal: stop.signal });
  for (let i = 0; i < 500 && said.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(said.length >= 2, "repeats the line while unfunded");
  assert.match(said[0]!, new RegExp(`account ${A(3)} has no funds .* zgrid node fund ${A(3)}`));
  huge = true;
  for (let i = 0; i < 500 && !said.some((l) => /cannot be checked: .*more than 4096/.test(l)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(said.some((l) => new RegExp(`account ${A(3)} cannot be checked: eth_getBalance: the chain at .* did not answer: an answer of more than 4096 bytes`).test(l)), said.join("\n"));
  huge = false;
  balance = "0x10";
  assert.equal(await done, 16n);
});
