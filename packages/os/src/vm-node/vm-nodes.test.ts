import assert from "node:assert/strict";
import { test } from "node:test";
import { pxeMachineArgs } from "./pxe-machine.ts";
import { fetchedReleaseBytes, readyNodeId } from "./vm-nodes.ts";

test("a VM node's console says when zosd is ready (its node id) and how many release bytes it fetched", () => {
  const text = [
    "zgrid-boot: network eth0 10.98.3.101/24 (dhcp)",
    "zgrid-boot: release blocks fetched so far: 1048576 bytes (0 verify failures)",
    '{"level":30,"time":1,"component":"zos","farm":1,"node":3,"msg":"node da', // cut by the console
    '{"level":30,"time":2,"component":"zos","farm":1,"node":7,"twin":9,"msg":"node daemon ready"}\r',
    "zgrid-boot: release blocks fetched so far: 52901376 bytes (0 verify failures)",
  ].join("\n");
  assert.equal(readyNodeId(text), 7);
  assert.equal(readyNodeId("zgrid-node: account 0x12 has no funds"), undefined);
  assert.equal(readyNodeId('node daemon ready {"msg":"node daemon ready","node":"x"}'), undefined, "a node id that is not a number is ignored");
  assert.deepEqual(fetchedReleaseBytes(text), { bytes: 52901376, verifyFailures: 0 });
  assert.equal(fetchedReleaseBytes("nothing yet"), undefined);
});

test("the machine boots from the network only, unless given the image; TCG, its own tap and disk", () => {
  const a = pxeMachineArgs({ disk: "/d.raw", tap: "zgv0", console: "/c.log", memoryMiB: 3072, mac: "52:54:00:7b:00:01" });
  assert.deepEqual(a.slice(a.indexOf("-boot"), a.indexOf("-boot") + 2), ["-boot", "n"]);
  assert.ok(a.includes("tcg") && a.includes("3072") && a.includes("file=/d.raw,if=virtio,format=raw"));
  assert.ok(a.includes("tap,id=n0,ifname=zgv0,script=no,downscript=no") && a.includes("virtio-net-pci,netdev=n0,mac=52:54:00:7b:00:01"));
  const k = pxeMachineArgs({ disk: "/d.raw", tap: "t", console: "/c.log", kernel: { dir: "/img", append: "console=ttyS0" } });
  assert.ok(!k.includes("-boot") && k.includes("/img/vmlinuz") && k.includes("console=ttyS0"));
});
