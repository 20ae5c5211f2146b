// Stateless node benchmark (issue 19): a blank QEMU machine (TCG, empty disk, network boot only:
// dnsmasq -> iPXE -> HTTP kernel + initramfs) boots the REAL node release of this checkout
// (@zgrid/os startVmNodes: Node, zosd, the upgrader, the guest kernel and the Debian system root),
// asks for funds (funded at once), runs zosd under the upgrader and registers in its farm on a dev
// chain. Prints power-on-to-registered and its phases, and the release bytes the node fetched
// lazily vs the release's total size, against the baseline of a full download of the same release
// from the same hub (unpackFlist: every block fetched and verified), measured in this run.
// Needs root and the VM lock (~12-20 min under load, release build included):
//   flock -w 1800 /tmp/zgrid-vm.lock nice node bench/boot/registered.ts
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGrid } from "@zgrid/chain/testing";
import { startHub, unpackFlist } from "@zgrid/flist";
import { fetchedReleaseBytes, startVmNodes } from "@zgrid/os/vm-nodes";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { createBootNetwork } from "../../packages/os/src/testing/blank-machine.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "zgrid-bench-registered-"));
const net = await createBootNetwork(`zbr${randomBytes(1).toString("hex")}`, `10.98.${randomBytes(1)[0]! % 250}`);
const stops: Array<() => Promise<unknown> | void> = [() => net.destroy(), () => rmSync(dir, { recursive: true, force: true })];
try {
  const grid = await startTestGrid({ host: net.hostAddress });
  stops.push(() => grid.chain.stop());
  const hub = await startHub({ dataDir: join(dir, "hub"), port: 0, host: net.hostAddress, blockAuth: "open" });
  stops.push(() => hub.close());
  const key = twinKeyFromPrivateKey(randomBytes(32));
  const vms = await startVmNodes({
    root: ROOT, workDir: join(dir, "vm"), bridge: net.bridge, hostAddress: net.hostAddress, dhcpRange: [`${net.prefix}.100`, `${net.prefix}.150`],
    rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses, farmId: grid.farmId, hubUrl: hub.url, releaseKey: key, count: 1, diskBytes: 4 * 1024 ** 3,
    tapPrefix: `${net.bridge.slice(0, -1)}v`,
    fund: async (account) => void (await grid.admin.walletClient!.sendTransaction({ to: account, value: 10n ** 20n, chain: null })),
    onProgress: (m) => console.error(`# ${m}`),
  });
  stops.push(() => vms.stop());
  const [node] = await Promise.race([vms.registered, new Promise<never>((_r, reject) => setTimeout(() => reject(new Error("not registered within 20 min")), 20 * 60_000).unref())]);
  const consoleText = readFileSync(node!.console, "utf8");
  const registeredS = (node!.registeredAt! - node!.poweredOnAt) / 1000;
  // the first process reports fetched bytes every 30 s when they grew: wait for the report after registration
  let fetched = fetchedReleaseBytes(consoleText);
  for (let i = 0; i < 40 && (!fetched || fetched.bytes === 0); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    fetched = fetchedReleaseBytes(readFileSync(node!.console, "utf8"));
  }
  const phases = Object.entries({ network: /zgrid-boot: network/, mounted: /zgrid-boot: release .* mounted/, "asked for funds": /has no funds/, "zosd ready": /node daemon ready/ })
    .map(([k, re]) => `${k}: ${re.test(consoleText) ? "seen" : "not seen"}`).join(", ");
  await vms.stop();
  // baseline: a full download of the same release from the same hub (what an installer would fetch)
  const t0 = performance.now();
  await unpackFlist({ flist: `${hub.url}/flists/${vms.release.name}`, target: join(dir, "full"), trustedSigners: [key.address] });
  const fullMs = performance.now() - t0;
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;
  const total = vms.release.bytes;
  console.log(`release: ${vms.release.files} files, ${mib(total)}; built and pushed in ${(vms.release.buildMs / 1000).toFixed(0)} s`);
  console.log(`power-on -> registered in farm ${grid.farmId} as node ${node!.nodeId}: ${registeredS.toFixed(0)} s (TCG; console: ${phases})`);
  if (fetched) {
    console.log(`release bytes fetched lazily by then: ${mib(fetched.bytes)} of ${mib(total)} = ${((100 * fetched.bytes) / total).toFixed(1)}% (${fetched.verifyFailures} verify failures)`);
    console.log(`baseline, full download of the same release from the same hub: ${mib(total)} in ${(fullMs / 1000).toFixed(1)} s on the host -> the node fetched ${(total / Math.max(fetched.bytes, 1)).toFixed(1)}x fewer bytes`);
  } else console.log(`no fetch report on the console; baseline full download: ${mib(total)} in ${(fullMs / 1000).toFixed(1)} s`);
} finally {
  for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
}
