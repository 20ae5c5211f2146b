// The egress policy under attack: every encoding of loopback / link-local / unspecified /
// multicast, IPv4 inside IPv6, the node's own and the services' addresses, names resolving to
// them (one bad record is enough), and the allow-list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EgressRefusedError } from "./egress-error.ts";
import { EgressPolicy } from "./egress-policy.ts";

const names: Record<string, string[]> = {
  "public.test": ["85.1.2.7"],
  "rebind.test": ["85.1.2.7", "127.0.0.1"],
  "local6.test": ["::1"],
  "hub.test": ["85.1.3.9"],
};
const policy = new EgressPolicy({
  ownAddresses: () => ["85.1.1.10", "fe80::1234"],
  services: ["http://85.1.1.20:8545", "/ip4/85.1.1.30/tcp/4100", "http://hub.test:7000"],
  allow: ["http://85.1.1.20:7000", "10.99.0.0/16"],
  resolveName: async (n) => {
    const a = names[n];
    if (!a) throw new Error("ENOTFOUND");
    return a;
  },
});

async function refused(target: string, why: RegExp): Promise<void> {
  await assert.rejects(policy.resolve(target), (e: unknown) => {
    assert.ok(e instanceof EgressRefusedError, `${target}: ${String(e)}`);
    assert.equal(e.code, "EGRESS_REFUSED");
    assert.match(e.message, why, target);
    return true;
  });
}

test("loopback in every encoding is refused, with the reason", async () => {
  for (const t of [
    "http://127.0.0.1:80/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://0x7f.1/",
    "ws://127.0.0.5:9000/x", "redis://2130706433:6379/ch", "redis://0x7f.0.0.1/ch", "[::1]:443", "http://[::1]/",
    "http://[::ffff:127.0.0.1]:8080/", "[::ffff:7f00:1]:22", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "127.0.0.1:22",
  ]) await refused(t, /loopback/);
});

test("link-local, unspecified, multicast, broadcast are refused", async () => {
  await refused("http://169.254.169.254/latest/meta-data", /link-local/);
  await refused("http://[fe80::1]:80/", /link-local/);
  await refused("http://[::ffff:169.254.0.1]/", /link-local/);
  await refused("http://0.0.0.0:8545/", /unspecified/);
  await refused("http://0/", /unspecified/);
  await refused("ws://[::]:80/", /unspecified/);
  await refused("http://224.0.0.1/", /multicast/);
  await refused("http://[ff02::1]/", /multicast/);
  await refused("http://255.255.255.255/", /broadcast/);
});

test("the node's own and the grid services' addresses are refused on every port", async () => {
  await refused("http://85.1.1.10:1/", /address of this node/);
  await refused("http://[::ffff:85.1.1.10]:4100/", /address of this node/);
  await refused("http://[fe80::1234]/", /link-local/);
  await refused("http://85.1.1.20:8545/", /grid's services/);
  await refused("85.1.1.30:4100", /grid's services/);
  await refused("http://85.1.3.9:22/", /grid's services/);
  await refused("ws://1426129182:9/", /grid's services/); // 85.1.1.30 as a decimal
});

test("names are resolved once and every address must pass", async () => {
  const ok = await policy.resolve("wss://public.test/logs");
  assert.deepEqual(ok, { host: "public.test", address: "85.1.2.7", family: 4, port: 443 });
  await refused("ws://rebind.test:9000/", /rebind\.test resolves to 127\.0\.0\.1 is a loopback/);
  await refused("http://local6.test/", /loopback/);
  await refused("http://nowhere.test/", /does not resolve/);
  await refused("not a url at all://", /not a valid URL|does not resolve/);
});

test("the allow-list lets the farm's hub and listed ranges through", async () => {
  assert.equal((await policy.resolve("http://85.1.1.20:7000/flists/x.fl")).address, "85.1.1.20");
  await refused("http://85.1.1.20:7001/", /grid's services/);
  assert.equal((await policy.resolve("10.99.3.4:80")).address, "10.99.3.4");
  assert.equal((await policy.resolve("http://85.1.2.50:8080/")).port, 8080);
});
