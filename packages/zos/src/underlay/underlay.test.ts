// Underlay node hosts: namespaces on a host bridge reach the host and each other, a process run
// with `command` lives in the node host (sees its address), create is idempotent, and destroy
// leaves no bridge, veth or namespace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { linkExists } from "../hypervisor/tap.ts";
import { createNodeHost, createUnderlay, PUBLIC_BRIDGE } from "./underlay.ts";

test("node hosts on the underlay reach the host and each other; destroy removes everything", async (t) => {
  const tag = randomBytes(2).toString("hex");
  const octet = 200 + (parseInt(tag, 16) % 40);
  const u = await createUnderlay({ bridge: `zgu${tag}`, hostAddress: `10.${octet}.0.1`, publicGateways: [`198.18.${octet % 250}.1/24`] });
  const hosts = [await createNodeHost(u, { name: `u${tag}a`, address: `10.${octet}.0.11` }), await createNodeHost(u, { name: `u${tag}b`, address: `10.${octet}.0.12` })];
  t.after(async () => {
    for (const h of hosts) await h.destroy().catch(() => undefined);
    await u.destroy().catch(() => undefined);
  });
  await createNodeHost(u, { name: `u${tag}a`, address: `10.${octet}.0.11` }); // idempotent
  const run = (h: (typeof hosts)[number], ...argv: string[]) => {
    const [cmd, args] = h.command(argv[0]!, argv.slice(1));
    return spawnSync(cmd, args, { encoding: "utf8" });
  };
  const [a, b] = hosts as [(typeof hosts)[number], (typeof hosts)[number]];
  assert.match(run(a, "ip", "-4", "-o", "addr", "show", "dev", PUBLIC_BRIDGE).stdout, new RegExp(`10\\.${octet}\\.0\\.11/16`));
  assert.equal(run(a, "ping", "-c", "1", "-W", "2", u.hostAddress).status, 0, "node host -> host");
  assert.equal(run(a, "ping", "-c", "1", "-W", "2", b.address).status, 0, "node host -> node host");
  assert.equal(spawnSync("ping", ["-c", "1", "-W", "2", b.address]).status, 0, "host -> node host");
  // A node daemon's named namespaces and mounts must outlive it: the node host shares the host's
  // mount namespace (only the network namespace is entered), so what it creates is seen by all.
  assert.equal(run(a, "readlink", "/proc/self/ns/mnt").stdout.trim(), readlinkSync("/proc/self/ns/mnt"), "same mount namespace as the host");
  assert.notEqual(run(a, "readlink", "/proc/self/ns/net").stdout.trim(), readlinkSync("/proc/self/ns/net"), "own network namespace");
  const inner = `zi${tag}`;
  assert.equal(run(a, "ip", "netns", "add", inner).status, 0);
  t.after(() => void spawnSync("ip", ["netns", "del", inner]));
  assert.ok(existsSync(`/run/netns/${inner}`), "a namespace made inside the node host is visible to every later process");
  assert.equal(spawnSync("ip", ["netns", "exec", inner, "true"]).status, 0, "and can be entered from outside");
  spawnSync("ip", ["netns", "del", inner]);
  // linkExists follows the caller's network namespace (not /sys, which is the host's here)
  const probe = `import("${new URL("../hypervisor/tap.ts", import.meta.url).pathname}").then((m) => console.log(m.linkExists("${PUBLIC_BRIDGE}"), m.linkExists("${u.bridge}")))`;
  assert.equal(run(a, process.execPath, "-e", probe).stdout.trim(), "true false");
  await assert.rejects(createNodeHost(u, { name: "Bad_Name!", address: `10.${octet}.0.13` }), /1-12 of a-z 0-9 -/);

  for (const h of hosts) await h.destroy();
  await u.destroy();
  assert.ok(!linkExists(u.bridge) && !linkExists(`zu-u${tag}a`) && !existsSync(`/run/netns/${a.namespace}`) && !existsSync(`/run/netns/${b.namespace}`));
});
