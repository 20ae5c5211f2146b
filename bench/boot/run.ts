// Stateless boot benchmark: a blank QEMU machine (TCG, empty disk, network boot only: dnsmasq ->
// iPXE -> HTTP kernel + initramfs) boots the zgrid image, which mounts a signed release flist
// (verified, lazily fetched) and runs its entry. Prints power-on-to-entry time, the phases, and
// bytes fetched (lazy) vs the release's total size, against the baseline of a full download of
// the same release (unpackFlist from the same hub, every block fetched and verified) in this run.
// Needs root and the VM lock:  flock /tmp/zgrid-vm.lock node bench/boot/run.ts [payloadMiB=64]
// (The node daemon's registration on the chain is not part of this image's release yet: see
// /work/notes/hboot.md; the entry stands for it.)
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unpackFlist } from "@zgrid/flist";
import { ensureBootImage, formatBootParams, parseBootParams, startBootServer } from "@zgrid/os";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { bootMachine, createBootNetwork, hostTscKhz } from "../../packages/os/src/testing/blank-machine.ts";
import { startReleaseHub } from "../../packages/os/src/testing/release-fixture.ts";

const payloadMiB = Number(process.argv[2] ?? 64);
const imageDir = ensureBootImage();
const dir = mkdtempSync(join(tmpdir(), "zgrid-bench-boot-"));
const net = await createBootNetwork(`zbb${randomBytes(1).toString("hex")}`, `10.99.${randomBytes(1)[0]! % 250}`);
try {
  const key = twinKeyFromPrivateKey(randomBytes(32));
  const hub = await startReleaseHub({ dir: join(dir, "release"), host: net.hostAddress, key, payloadBytes: payloadMiB * 1024 ** 2 });
  const params = parseBootParams(`zgrid.farm=1 zgrid.rpc=http://${net.hostAddress}:8545 zgrid.hub=${hub.url} zgrid.keys=${key.address} zgrid.release=${hub.releaseName}`);
  const tsc = hostTscKhz();
  const server = await startBootServer({ imageDir, kernelLine: formatBootParams(params, hub.releaseName), extraWords: tsc ? `tsc_early_khz=${tsc}` : "", host: net.hostAddress,
    dhcp: { iface: net.bridge, range: [`${net.prefix}.100`, `${net.prefix}.150`], router: net.hostAddress, stateDir: join(dir, "dnsmasq") } });
  const disk = join(dir, "disk.raw");
  writeFileSync(disk, "");
  truncateSync(disk, 128 * 1024 ** 2);
  const run = await bootMachine({ disk, tap: net.tap, console: join(dir, "console.log"), timeoutMs: 600_000,
    marks: { kernel: /zgrid-boot: zgrid boot image/, network: /zgrid-boot: network/, identity: /zgrid-boot: node identity/, mounted: /zgrid-boot: release .* mounted/, entry: /ZGRID-RELEASE-ENTRY/ } });
  const fetched = Number(/release entry exited with status 0 \((\d+) bytes fetched/.exec(run.console)?.[1] ?? NaN);
  const imageBytes = server.stats().bytes;
  await server.close();
  // baseline: a full download of the same release from the same hub (what an installer would fetch)
  const t0 = performance.now();
  await unpackFlist({ flist: `${hub.url}/flists/${hub.releaseName}`, target: join(dir, "full"), trustedSigners: [key.address] });
  const fullMs = performance.now() - t0;
  await hub.close();
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(2)} MiB`;
  console.log(`power-on -> release entry: ${(run.marks.entry ?? NaN) / 1000} s (TCG)  phases (s from power-on): ${Object.entries(run.marks).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(", ")}`);
  console.log(`boot image over HTTP: ${mib(imageBytes)} (kernel + initramfs, once per boot)`);
  console.log(`release bytes fetched lazily: ${mib(fetched)} of ${mib(hub.totalBytes)} = ${(100 * fetched / hub.totalBytes).toFixed(2)}% ; full download of the same release (baseline): ${mib(hub.totalBytes)} in ${(fullMs / 1000).toFixed(2)} s on the host -> lazy fetches ${(hub.totalBytes / Math.max(fetched, 1)).toFixed(0)}x fewer bytes`);
  if (!run.marks.entry) console.log(run.console.slice(-3000));
} finally {
  await net.destroy();
  rmSync(dir, { recursive: true, force: true });
}
