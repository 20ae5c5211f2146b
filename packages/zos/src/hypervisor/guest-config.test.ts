// The guest config the init script sources: rendered by the host, read back by a real POSIX shell.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { writeGuestConfig } from "./guest-config.ts";
import { parseVmSpec } from "./vm-spec.ts";
import { buildQemuArgs } from "./qemu-command.ts";
import { macFor, tapNameFor } from "./tap.ts";
import { VmSpecError } from "./errors.ts";

const spec = parseVmSpec({
  id: "12-7-web",
  rootShare: "/srv/root",
  rootDisk: { path: "/var/vm/root.img", sizeBytes: 1 << 30 },
  disks: [{ path: "/var/vm/a.img", mountpoint: "/data", sizeBytes: 1 << 20 }, { path: "/var/vm/b.img", mountpoint: "/var/lib/db", sizeBytes: 1 << 20 }],
  network: { bridge: "br0", ip: "10.1.0.2/24", gateway: "10.1.0.1", dns: ["1.1.1.1"], mac: "02:00:00:00:00:0A" },
  extraNetworks: [{ bridge: "br1", ip: "10.9.0.2/16", dns: ["1.1.1.1", "9.9.9.9"] }],
  hostname: "web",
  env: { SSH_KEY: "ssh-ed25519 AAAA x@y\nssh-rsa BBBB z@w", TRICKY: `it's "quoted" $HOME \`x\` \\ ;`, EMPTY: "" },
  entrypoint: ["/bin/app", "--name", "a b'c"],
  sshKeys: ["ssh-ed25519 AAAA x@y"],
});

test("config.sh and env.sh read back exactly in busybox sh", async () => {
  const dir = await mkdtemp(join(tmpdir(), "zcfg-"));
  try {
    await writeGuestConfig(dir, spec);
    const script = `. ${dir}/config.sh; . ${dir}/env.sh
      printf '%s\\n' "$ZG_HOSTNAME" "$ZG_ROOT_DISK" "$ZG_MOUNTS" "$ZG_NICS" "$ZG_GATEWAY" "$ZG_DNS" "$TRICKY" "[$EMPTY]" "$#" "$1" "$2" "$3"`;
    const out = execFileSync("/bin/busybox", ["sh", "-c", script], { encoding: "utf8" }).split("\n");
    assert.deepEqual(out.slice(0, 12), ["web", "zroot", "zd0:/data zd1:/var/lib/db", `02:00:00:00:00:0a=10.1.0.2/24 ${macFor("12-7-web#1")}=10.9.0.2/16`, "10.1.0.1", "1.1.1.1 9.9.9.9",
      `it's "quoted" $HOME \`x\` \\ ;`, "[]", "3", "/bin/app", "--name", "a b'c"]);
    assert.equal(await readFile(join(dir, "authorized_keys"), "utf8"), "ssh-ed25519 AAAA x@y\nssh-rsa BBBB z@w\n", "spec keys + SSH_KEY env, deduplicated");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("spec validation rejects unsafe values with every issue listed", () => {
  assert.throws(() => parseVmSpec({ id: "../x", rootShare: "rel/path", env: { "A-B": "1" } }), (e: unknown) => {
    assert.ok(e instanceof VmSpecError);
    assert.equal(e.code, "VM_SPEC_INVALID");
    assert.ok((e.details.issues as string[]).length >= 3);
    return true;
  });
  assert.throws(() => parseVmSpec({ ...spec, disks: [{ path: "/a", mountpoint: "/d", sizeBytes: 1 }, { path: "/b", mountpoint: "/d", sizeBytes: 1 }] }), VmSpecError);
});

test("tap names fit IFNAMSIZ and MACs are stable, unicast, locally administered", () => {
  const tap = tapNameFor("a-very-long-workload-id-that-would-not-fit");
  assert.ok(tap.length <= 15);
  assert.equal(tap, tapNameFor("a-very-long-workload-id-that-would-not-fit"));
  assert.notEqual(tapNameFor("a"), tapNameFor("b"));
  assert.match(macFor("x"), /^02(:[0-9a-f]{2}){5}$/);
});

test("qemu command line: microvm, TCG with tb-size, tsc_early_khz, disks by serial, tap", () => {
  const paths = { dir: "/s/x", qmpSocket: "/s/x/qmp.sock", agentSocket: "/s/x/agent.sock", pidfile: "/s/x/qemu.pid", consoleLog: "/s/x/console.log", configDir: "/s/x/config", specFile: "/s/x/spec.json", desiredFile: "/s/x/desired", failureFile: "/s/x/failure", seedDisk: "/s/x/seed.img" };
  const args = buildQemuArgs({ spec, guest: { dir: "/g", kernel: "/g/vmlinux", initrd: "/g/initramfs.cpio", release: "r" }, accel: "tcg", paths });
  const joined = args.join(" ");
  assert.ok(joined.includes("-M microvm -accel tcg,tb-size=64 -cpu max"));
  assert.match(joined, /tsc_early_khz=\d+/);
  assert.ok(joined.includes("-daemonize"));
  assert.ok(joined.includes("virtio-blk-device,drive=zd1,serial=zd1"));
  assert.ok(joined.includes(`tap,id=n0,ifname=${tapNameFor("12-7-web")},script=no,downscript=no`));
  assert.ok(joined.includes("virtio-net-device,netdev=n0,mac=02:00:00:00:00:0a"));
  assert.ok(joined.includes(`tap,id=n1,ifname=${tapNameFor("12-7-web#1")},script=no,downscript=no`));
});
