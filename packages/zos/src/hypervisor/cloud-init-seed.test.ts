// The NoCloud seed for kernel/full VMs: a real FAT image labelled CIDATA, read back with mtools.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { writeCloudInitSeed } from "./cloud-init-seed.ts";
import { parseVmSpec } from "./vm-spec.ts";

test("seed image has meta-data, user-data and network-config cloud-init understands", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zseedt-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const spec = parseVmSpec({
    id: "7-3-vm", mode: "full", rootDisk: { path: "/x/image.img", sizeBytes: 1 << 30 }, hostname: "web",
    network: { bridge: "br0", ip: "10.20.2.5/24", gateway: "10.20.2.1", dns: ["1.1.1.1"], mac: "02:00:00:00:00:07" },
    extraNetworks: [{ bridge: "br1", ip: "10.30.0.5/16" }],
    env: { SSH_KEY: "ssh-ed25519 AAAA k@1", A: 'say "hi"' }, sshKeys: ["ssh-rsa BBBB k@2"],
  });
  const img = join(dir, "seed.img");
  await writeCloudInitSeed(img, spec);
  const read = (f: string): string => execFileSync("mtype", ["-i", img, `::${f}`], { encoding: "utf8" });
  assert.equal(execFileSync("fatlabel", [img], { encoding: "utf8" }).trim(), "CIDATA");
  assert.deepEqual(JSON.parse(read("meta-data")), { "instance-id": "7-3-vm", "local-hostname": "web" });
  const userData = read("user-data");
  assert.ok(userData.startsWith("#cloud-config\n"));
  const ud = JSON.parse(userData.slice(userData.indexOf("\n") + 1)) as { hostname: string; users: [string, { name: string; ssh_authorized_keys: string[] }]; write_files: { content: string }[] };
  assert.equal(ud.hostname, "web");
  assert.deepEqual(ud.users[1].ssh_authorized_keys, ["ssh-rsa BBBB k@2", "ssh-ed25519 AAAA k@1"]);
  assert.match(ud.write_files[0]!.content, /^A="say \\"hi\\""$/m);
  type Eth = { match: { macaddress: string }; addresses: string[]; routes?: { via: string }[] };
  const net = JSON.parse(read("network-config")) as { version: number; ethernets: { eth0: Eth; eth1: Eth } };
  assert.equal(net.version, 2);
  assert.equal(net.ethernets.eth0.match.macaddress, "02:00:00:00:00:07");
  assert.deepEqual(net.ethernets.eth0.addresses, ["10.20.2.5/24"]);
  assert.equal(net.ethernets.eth0.routes?.[0]?.via, "10.20.2.1");
  assert.deepEqual(net.ethernets.eth1.addresses, ["10.30.0.5/16"]);
  assert.equal(net.ethernets.eth1.routes, undefined, "one default route only");
});
