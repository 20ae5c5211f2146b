// Spec fields that change what a replica is: `public_ip` is part of the replica hash only when set,
// so services made before the field existed keep their hash (no rolling update after an upgrade),
// and turning it on is a rolling update to replicas with public IPs. Bad values name the field.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { parseBotSpec, replicaHash } from "./service-spec.ts";

test("public_ip: off by default, in the replica hash only when set; a bad value names the field", () => {
  const [plain] = parseBotSpec({ services: [{ name: "web", flist: "busybox", replicas: 2 }] }).services;
  assert.equal(plain!.public_ip, false);
  // the hash as it was computed before public_ip existed
  const { flist, cpu, memory, rootfs, env } = plain!;
  const before = createHash("sha256").update(JSON.stringify({ flist, cpu, memory, rootfs, env })).digest("hex").slice(0, 12);
  assert.equal(replicaHash(plain!), before, "unchanged for services without public_ip");
  const [pub] = parseBotSpec({ services: [{ name: "web", flist: "busybox", replicas: 2, public_ip: true }] }).services;
  assert.notEqual(replicaHash(pub!), before, "public_ip on: a new replica version");
  assert.throws(() => parseBotSpec({ services: [{ name: "web", flist: "busybox", public_ip: "yes" }] }), /services\.0\.public_ip/);
});

test("disks: `backup` is an interval of 5m–30d (a clear error otherwise); disks are part of the replica, the interval is not", () => {
  const spec = (disks: unknown) => parseBotSpec({ services: [{ name: "db", flist: "busybox", disks }] }).services[0]!;
  const s = spec([{ name: "data", size: 1024, mountpoint: "/data", backup: "6h" }, { name: "tmp", size: 10, mountpoint: "/tmp" }]);
  assert.equal(s.disks[0]!.backup, 6 * 3_600_000);
  assert.equal(s.disks[1]!.backup, undefined);
  assert.equal(spec([{ name: "data", size: 1024, mountpoint: "/data", backup: "30m" }]).disks[0]!.backup, 30 * 60_000);
  assert.equal(replicaHash(spec([{ name: "data", size: 1024, mountpoint: "/data", backup: "1d" }])), replicaHash(spec([{ name: "data", size: 1024, mountpoint: "/data", backup: "5m" }])), "changing the interval redeploys nothing");
  assert.notEqual(replicaHash(spec([{ name: "data", size: 1024, mountpoint: "/data" }])), replicaHash(spec([])), "adding a disk is a new replica version");
  assert.equal(replicaHash(spec([])), replicaHash(parseBotSpec({ services: [{ name: "db", flist: "busybox" }] }).services[0]!), "no disks: the hash of before");
  for (const bad of ["1m", "4m", "31d", "6", "h", "1.5h", "-1h", "6 h", "1w", "99999999d", 6, ""]) {
    assert.throws(() => spec([{ name: "data", size: 1, mountpoint: "/data", backup: bad }]), (e: unknown) => /services\.0\.disks\.0\.backup/.test(String(e)) && /"30m", "6h" or "1d"/.test(String(e)), `backup: ${JSON.stringify(bad)}`);
  }
  assert.throws(() => spec([{ name: "data", size: 1, mountpoint: "/data" }, { name: "data", size: 1, mountpoint: "/x" }]), /unique/);
  assert.throws(() => spec([{ name: "data", size: 1, mountpoint: "data/../x" }]), /disks\.0\.mountpoint/);
  assert.throws(() => spec(Array.from({ length: 5 }, (_, i) => ({ name: `d${i}x`, size: 1, mountpoint: "/d" }))), /disks/);
});

test("movable: off by default, not part of the replica hash, refused with disks (a clear error)", () => {
  const s = parseBotSpec({ services: [{ name: "web", flist: "busybox", movable: true }] }).services[0]!;
  assert.equal(s.movable, true);
  assert.equal(parseBotSpec({ services: [{ name: "web", flist: "busybox" }] }).services[0]!.movable, false);
  assert.equal(replicaHash(s), replicaHash({ ...s, movable: false }), "consent redeploys nothing");
  assert.throws(() => parseBotSpec({ services: [{ name: "db", flist: "busybox", movable: true, disks: [{ name: "data", size: 1, mountpoint: "/data" }] }] }),
    (e: unknown) => /services\.0\.movable/.test(String(e)) && /disk stays on its node/.test(String(e)));
});

test("entrypoint: the app's argv, part of the replica only when set (older services' hashes unchanged)", () => {
  const base = parseBotSpec({ services: [{ name: "web", flist: "busybox" }] }).services[0]!;
  const s = parseBotSpec({ services: [{ name: "web", flist: "busybox", entrypoint: ["/start.sh", "--port", "80"] }] }).services[0]!;
  assert.deepEqual(s.entrypoint, ["/start.sh", "--port", "80"]);
  assert.equal(base.entrypoint, undefined);
  assert.notEqual(replicaHash(s), replicaHash(base), "a new command is a new replica (rolling update)");
  assert.throws(() => parseBotSpec({ services: [{ name: "web", flist: "busybox", entrypoint: [] }] }), /services\.0\.entrypoint/);
});
