import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, parseSize } from "./format.ts";
import { defaultIpRange, subnetFor } from "./networks/network-service.ts";
import { encodeMetadata, parseMetadata } from "./models/contract-metadata.ts";
import { vmModelSchema, vmNeeds, vmWorkloads } from "./models/vm-model.ts";

test("sizes", () => {
  assert.equal(formatBytes(8 * 1024 ** 3), "8 GiB");
  assert.equal(formatBytes(1536 * 1024 ** 2), "1.5 GiB");
  assert.equal(parseSize("512"), 512 * 1024 ** 2);
  assert.equal(parseSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseSize("1.5GiB"), 1.5 * 1024 ** 3);
  assert.ok(Number.isNaN(parseSize("lots")));
});

test("network ranges and subnets", () => {
  assert.match(defaultIpRange("net"), /^10\.(1\d\d|2[0-2]\d)\.0\.0\/16$/);
  assert.equal(defaultIpRange("net"), defaultIpRange("net"));
  assert.equal(subnetFor("10.60.0.0/16", 3), "10.60.3.0/24");
  assert.throws(() => subnetFor("10.60.1.0/24", 3), /must be a \/16/);
});

test("contract metadata round trip; foreign metadata is ignored", () => {
  const m = encodeMetadata({ kind: "vm", name: "web", network: "net", project: "shop" });
  assert.deepEqual(parseMetadata(m), { v: 1, kind: "vm", name: "web", network: "net", project: "shop" });
  assert.equal(parseMetadata("e2e"), undefined);
  assert.equal(parseMetadata('{"kind":"vm"}'), undefined);
});

test("a VM model becomes zmount + zmachine workloads", () => {
  const vm = vmModelSchema.parse({ name: "web", flist: "http://hub/f.fl", memory: 512, disks: [{ name: "d", size: 100, mountpoint: "/d" }], ssh_key: "ssh-ed25519 AAA x", env: { A: "1" } });
  assert.deepEqual(vmNeeds(vm), { cru: 1, mru: 512 * 1024 ** 2, sru: 100 * 1024 ** 2, hru: 0 });
  const [disk, machine] = vmWorkloads(vm, "10.1.2.2") as Array<{ type: string; data: Record<string, unknown> }>;
  assert.equal(disk!.type, "zmount");
  assert.equal(machine!.type, "zmachine");
  assert.deepEqual(machine!.data.env, { A: "1", SSH_KEY: "ssh-ed25519 AAA x" });
  assert.deepEqual(machine!.data.network, { interfaces: [{ network: "default", ip: "10.1.2.2" }] });
});
