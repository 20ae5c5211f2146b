/**
 * The boot image's first Node process (started by the initramfs's /init once the network is up and
 * the cache disk mounted): kernel line -> node identity -> release (mounted, verified) -> entry.
 * Every step prints a `zgrid-boot:` console line; a failure prints `zgrid-boot: FATAL <code>: …`
 * with a hint and returns a non-zero status (init then stops the machine: nothing unverified runs).
 *
 * @example
 * ```ts
 * process.exitCode = await firstProcess({ cmdline: readFileSync("/proc/cmdline", "utf8"), dataDir: "/var/cache/zgrid", cacheDir: "/run/zgrid/cache", mountpoint: "/run/zgrid/release" });
 * ```
 */
import { join } from "node:path";
import { BaseError } from "@zgrid/types";
import { parseBootParams } from "./boot-params.ts";
import { loadOrCreateSeed } from "./node-seed.ts";
import { mountRelease, runEntry } from "./start-release.ts";

export async function firstProcess(o: { cmdline: string; dataDir: string; cacheDir: string; mountpoint: string; say?: (line: string) => void; reportMs?: number }): Promise<number> {
  const say = o.say ?? ((l: string) => void process.stdout.write(`zgrid-boot: ${l}\n`));
  try {
    const params = parseBootParams(o.cmdline);
    say(`farm ${params.farmId}, chain ${params.rpcUrl}, hub ${params.hubUrl}, ${params.releaseKeys.length} release key(s)`);
    const id = loadOrCreateSeed(join(o.dataDir, "zos"));
    say(`node identity ${id.address} (${id.created ? "new: first boot of this disk" : "kept from this disk"})`);
    const started = Date.now();
    // the release's blocks are cached in RAM (cacheDir on tmpfs): nothing of the OS lands on the disk
    const release = await mountRelease({ params, cacheDir: o.cacheDir, mountpoint: o.mountpoint });
    const m = await release.mount.metrics().catch(() => undefined);
    say(`release ${params.releaseUrl} signed by ${release.signer}, verified, mounted in ${Date.now() - started} ms (${m?.bytesFetched ?? "?"} bytes fetched so far)`);
    say(`starting ${release.entry.slice(o.mountpoint.length)}`);
    // A node's entry runs for as long as the machine does: say how much of the release it has
    // fetched so far (lazily) whenever that grew, at most once per `reportMs`.
    let reported = m?.bytesFetched ?? 0;
    const report = setInterval(() => {
      void release.mount.metrics().then((now) => {
        if (now.bytesFetched === reported) return;
        reported = now.bytesFetched;
        say(`release blocks fetched so far: ${now.bytesFetched} bytes (${now.verifyFailures} verify failures)`);
      }, () => undefined);
    }, o.reportMs ?? 30_000);
    report.unref();
    const code = await runEntry(release, {
      ZGRID_FARM: String(params.farmId), ZGRID_RPC: params.rpcUrl, ZGRID_HUB: params.hubUrl, ZGRID_RELEASE_KEYS: params.releaseKeys.join(","),
      ZGRID_RELEASE_ROOT: o.mountpoint, ZGRID_DATA_DIR: o.dataDir, ZGRID_NODE_ACCOUNT: id.address,
      ...(params.contracts ? { ZGRID_CONTRACTS: JSON.stringify(params.contracts) } : {}),
    });
    clearInterval(report);
    const end = await release.mount.metrics().catch(() => undefined);
    say(`release entry exited with status ${code} (${end?.bytesFetched ?? "?"} bytes fetched, ${end?.verifyFailures ?? "?"} verify failures)`);
    await release.mount.unmount().catch(() => undefined);
    return code;
  } catch (e) {
    const err = e instanceof BaseError ? e : undefined;
    say(`FATAL ${err?.code ?? "INTERNAL"}: ${err ? err.shortMessage : e instanceof Error ? e.message : String(e)}`);
    if (err?.hint) say(`  hint: ${err.hint}`);
    return 1;
  }
}
