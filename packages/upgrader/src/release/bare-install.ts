/**
 * A bare node (no `initial` release, nothing installed, no zosd ever run — e.g. a stateless boot)
 * installs the release approved on chain before anything else runs: it reads the chain without an
 * account (the node has no identity yet), waits until a release is approved and safe, then installs
 * it like any upgrade (release file hash = the chain's, signer = a pinned release key, every block
 * verified). There is nothing to roll back to, so a refused release stops the upgrader with the
 * reason; waves do not apply (the node is not registered yet, so it is in no wave).
 *
 * @example
 * ```ts
 * const { version } = await installApprovedRelease({ zos, versionsDir, releaseKeys, pollMs: 5_000 });
 * // versions/<version> holds the verified release; run zosd from it
 * ```
 */
import { createGridClient, type GridClient } from "@zgrid/chain";
import { createLogger } from "@zgrid/log";
import { ReleaseRejectedError } from "../errors.ts";
import type { ZosFacts } from "../upgrader-config.ts";
import { installRelease } from "./install-release.ts";

const log = createLogger("upgrader");
const ZERO_HASH = `0x${"0".repeat(64)}`;

export interface BareInstallOptions {
  zos: Pick<ZosFacts, "chain">;
  versionsDir: string;
  releaseKeys: string[];
  stores?: string[];
  pollMs: number;
  /** Gives up after this long without an approved, safe release (default: waits for ever). */
  waitMs?: number;
  /** For tests: a read-only client of the chain. */
  client?: Pick<GridClient, "getApprovedRelease">;
}

export async function installApprovedRelease(o: BareInstallOptions): Promise<{ version: string; dir: string }> {
  const client = o.client ?? createGridClient({ rpcUrl: o.zos.chain.rpcUrl, addresses: o.zos.chain.addresses, pollingIntervalMs: 200 });
  const deadline = o.waitMs === undefined ? Infinity : Date.now() + o.waitMs;
  let said = "";
  for (;;) {
    const r = await client.getApprovedRelease().catch((e: unknown) => {
      log.warn({ err: e }, "cannot read the approved release (retrying)");
      return undefined;
    });
    if (r && r.manifestHash !== ZERO_HASH && r.safeToUpgrade) {
      log.info({ version: r.version, url: r.manifestUrl }, "bare node: installing the approved release");
      try {
        const installed = await installRelease({ manifestUrl: r.manifestUrl, expectedHash: r.manifestHash, trustedKeys: o.releaseKeys, versionsDir: o.versionsDir, ...(o.stores ? { stores: o.stores } : {}) });
        return { version: r.version, dir: installed.dir };
      } catch (e) {
        if (!(e instanceof ReleaseRejectedError)) throw e;
        throw new ReleaseRejectedError(`bare node: the approved release ${r.version} is refused, and there is nothing else to run: ${e.shortMessage}`,
          { cause: e, hint: "configure `initial` (a release this node can run) or wait for governance to approve a fixed release" });
      }
    }
    const why = !r ? "the chain does not answer" : r.manifestHash === ZERO_HASH ? "no release is approved on chain yet" : `release ${r.version} is marked unsafe on chain`;
    if (why !== said) log.info({ why }, "bare node: waiting for an approved release");
    said = why;
    if (Date.now() + o.pollMs > deadline) throw new ReleaseRejectedError(`bare node: nothing to run after ${o.waitMs} ms: ${why}`, { hint: "configure `initial` or approve a release on chain" });
    await new Promise((res) => setTimeout(res, o.pollMs));
  }
}
