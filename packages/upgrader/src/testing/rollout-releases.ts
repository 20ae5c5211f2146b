/**
 * The two releases of the rollout e2e, built once: 2.0.0 (this checkout) and 3.0.0 (the same with a
 * zosd that exits at start). Built into `outDir`, or taken from there when an earlier build left
 * them (their hash is the file's, as governance votes on it): build them outside the VM lock with
 *   node -e 'import("@zgrid/upgrader/testing").then((m) => m.rolloutReleases(process.cwd(), "/tmp/zgrid-e2e-releases"))'
 * and run the e2e with ZGRID_E2E_RELEASES=/tmp/zgrid-e2e-releases.
 *
 * @example
 * ```ts
 * const { v2, v3 } = await rolloutReleases(ROOT, join(tmp, "releases"));
 * await grid.approveRelease({ version: "2.0.0", manifestHash: v2.manifestHash, manifestUrl: v2.manifestPath });
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { buildRelease } from "../release/build-release.ts";
import { releaseFileHash } from "../release/release-manifest.ts";

/** The release key of the e2e and the bench (a test key: pinned by the nodes they start). */
export const TEST_RELEASE_KEY = twinKeyFromPrivateKey(`0x${"5e".repeat(32)}`);

export interface ReadyRelease { version: string; manifestPath: string; manifestHash: `0x${string}`; seconds: number; reused: boolean }

const BROKEN_ZOSD = "process.stderr.write('broken release\\n');\nprocess.exit(3);\n";

async function release(root: string, outDir: string, version: string, extra: { previous?: { min: string }; extraFiles?: Record<string, string> }): Promise<ReadyRelease> {
  const manifestPath = join(outDir, `zgrid-${version}.json`);
  if (existsSync(manifestPath)) return { version, manifestPath, manifestHash: releaseFileHash(readFileSync(manifestPath)), seconds: 0, reused: true };
  const b = await buildRelease({ root, version, outDir, key: TEST_RELEASE_KEY, stateSchema: 1, node: false, guest: true, ...extra });
  return { version, manifestPath: b.manifestPath, manifestHash: b.manifestHash, seconds: b.seconds, reused: false };
}

export async function rolloutReleases(root: string, outDir: string): Promise<{ v2: ReadyRelease; v3: ReadyRelease }> {
  const v2 = await release(root, outDir, "2.0.0", { previous: { min: "1.0.0" } });
  const v3 = await release(root, outDir, "3.0.0", { extraFiles: { "packages/zos/bin/zosd.ts": BROKEN_ZOSD } });
  return { v2, v3 };
}
