/**
 * Installs an approved release on a node: downloads the release file (bounded), checks it is the
 * file the chain approved (hash) and is signed by a pinned release key, downloads the flist, checks
 * its signature and that its root digest is the manifest's, then unpacks it through the verifying
 * store (every block re-hashed) into `<versionsDir>/<version>` (via a temp dir and a rename, so a
 * crash never leaves a half release under the final name). An installed version is reused.
 *
 * @example
 * ```ts
 * const r = await installRelease({ manifestUrl: "http://hub/releases/zgrid-2.0.0.json", expectedHash: chainHash,
 *   trustedKeys: ["0xRelease…"], versionsDir: "/var/lib/zgrid-upgrader/versions" });
 * r.dir; // /var/lib/zgrid-upgrader/versions/2.0.0
 * ```
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BlockIntegrityError, BlockNotFoundError, SignatureError, fetchBytes, fetchToFile, readFlistMeta, unpackFlist, type HttpStoreOptions } from "@zgrid/flist";
import { ReleaseRejectedError } from "../errors.ts";
import { MAX_RELEASE_FILE_BYTES, openReleaseFile, type ReleaseManifest } from "./release-manifest.ts";

export interface InstallReleaseOptions {
  /** http(s) URL or local path of the release file. */
  manifestUrl: string;
  /** keccak-256 of the release file as approved on chain. */
  expectedHash: string;
  trustedKeys: string[];
  versionsDir: string;
  /** Block stores to read instead of the flist's routes. */
  stores?: string[];
  http?: HttpStoreOptions;
  /** The running release's dir: files with identical content are hard-linked from it (verified). */
  reuseDir?: string;
}

export interface InstalledRelease {
  manifest: ReleaseManifest & { signer: `0x${string}` };
  dir: string;
  /** Seconds spent downloading + verifying + unpacking (0 when it was installed already). */
  seconds: number;
  reused: boolean;
  /** Bytes taken from `reuseDir` instead of the stores. */
  reusedBytes: number;
}

const isHttp = (u: string) => /^https?:\/\//.test(u);

export async function installRelease(o: InstallReleaseOptions): Promise<InstalledRelease> {
  const started = Date.now();
  const file = isHttp(o.manifestUrl) ? await download(o.manifestUrl, o.http) : readLocal(o.manifestUrl);
  const manifest = openReleaseFile(file, { trustedKeys: o.trustedKeys, expectedHash: o.expectedHash, source: o.manifestUrl });
  const dir = join(o.versionsDir, manifest.version);
  if (existsSync(join(dir, ".installed.json"))) return { manifest, dir, seconds: 0, reused: true, reusedBytes: 0 };
  mkdirSync(o.versionsDir, { recursive: true });
  const flistSource = isHttp(o.manifestUrl) ? new URL(manifest.flist.file, o.manifestUrl).toString() : resolve(o.manifestUrl, "..", manifest.flist.file);
  const flistPath = join(o.versionsDir, `${manifest.version}.fl`);
  const tmp = join(o.versionsDir, `.tmp-${manifest.version}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    if (isHttp(flistSource)) await fetchToFile(flistSource, flistPath, { maxBytes: 512 * 2 ** 20, ...o.http });
    else writeFileSync(flistPath, readFileSync(flistSource));
    const meta = readFlistMeta(flistPath);
    if (meta.root !== manifest.flist.root) {
      throw new ReleaseRejectedError(`release ${manifest.version}: the flist's root digest ${meta.root ?? "(unsigned)"} is not the manifest's ${manifest.flist.root}`, {
        hint: "the flist next to the manifest is another build: publish the flist the manifest was built with",
      });
    }
    const stats = await unpackFlist({ flist: flistPath, target: tmp, requireSignature: true, trustedSigners: o.trustedKeys,
      ...(o.stores ? { stores: o.stores } : {}), ...(o.http ? { http: o.http } : {}), ...(o.reuseDir ? { reuseDir: o.reuseDir } : {}) });
    writeFileSync(join(tmp, ".installed.json"), JSON.stringify({ manifest, installedAt: new Date().toISOString() }));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { manifest, dir, seconds: (Date.now() - started) / 1000, reused: false, reusedBytes: stats.reusedBytes ?? 0 };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw explain(e, manifest.version);
  } finally {
    rmSync(flistPath, { force: true });
  }
}

function explain(e: unknown, version: string): unknown {
  if (e instanceof BlockIntegrityError) {
    return new ReleaseRejectedError(`release ${version} refused: a block of its flist was tampered with (${e.shortMessage})`, {
      details: e.details, hint: "the store serves a modified block; nothing of this release was run. Re-publish the release's blocks from the build", cause: e,
    });
  }
  if (e instanceof SignatureError) {
    return new ReleaseRejectedError(`release ${version} refused: ${e.shortMessage}`, { hint: "only flists signed by a pinned release key run", cause: e });
  }
  if (e instanceof BlockNotFoundError) {
    return new ReleaseRejectedError(`release ${version}: ${e.shortMessage}`, { hint: "the release's blocks are not in the store: publish them (or set `stores`)", cause: e });
  }
  return e;
}

async function download(url: string, http?: HttpStoreOptions): Promise<Uint8Array> {
  const { status, body } = await fetchBytes(url, { maxBytes: MAX_RELEASE_FILE_BYTES, ...http });
  if (status !== 200) throw new ReleaseRejectedError(`release file ${url}: HTTP ${status}`, { hint: "publish the release file at the URL the proposal names" });
  return body;
}

function readLocal(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ReleaseRejectedError(`release file ${path} cannot be read`, { cause: e });
  }
}
