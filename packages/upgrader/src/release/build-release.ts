/**
 * Builds a release: the node software as one content-addressed, signed flist plus its signed
 * manifest. The tree holds the project (package.json, packages/), its node_modules (workspace
 * links stay relative links), Node itself (`node/bin/node`) and the guest kernel + initramfs
 * (`.tools/guest`), staged with hard links (no copy) and packed with @zgrid/flist; blocks go to
 * `stores` (a hub or a directory), identical blocks of older releases are not stored twice.
 *
 * @example
 * ```ts
 * const r = await buildRelease({ root: "/work/zgrid", version: "2.0.0", outDir: "/srv/releases",
 *   stores: ["dir:///srv/releases/blocks"], key: releaseKey, stateSchema: 2, migrations: ["deployments v2: …"] });
 * r.manifestPath; r.manifestHash; // publish both files, then governance.proposeRelease({ version, manifestHash, manifestUrl })
 * ```
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TAGS, packFlist, readFlistMeta, signFlist } from "@zgrid/flist";
import type { TwinKey } from "@zgrid/types";
import { ReleaseBuildError } from "../errors.ts";
import { releaseFileHash, releaseManifestSchema, signReleaseManifest, type ReleaseManifest } from "./release-manifest.ts";

export interface BuildReleaseOptions {
  /** The project checkout to release. */
  root: string;
  version: string;
  outDir: string;
  /** Block stores (`dir:///…`, hub URL); default `dir://<outDir>/blocks`. */
  stores?: string[];
  key: TwinKey;
  /** Schema version of the node state this release writes (`STATE_SCHEMA` of @zgrid/zos). */
  stateSchema: number;
  migrations?: string[];
  previous?: { min?: string; max?: string };
  /** Include Node (default: the binary running this). `false`: nodes run it with the upgrader's Node. */
  node?: string | false;
  /** Include the guest kernel/initramfs from `<root>/.tools/guest` (default true). */
  guest?: boolean;
  /**
   * A node system root (packages/os/scripts/build-system-root.sh) staged as `system/`: the release
   * then boots a stateless node (issue 19) and its flist's entry is @zgrid/os's node-entry.sh.
   */
  system?: string;
  /** Extra files written into the release tree (relative path -> content), e.g. for tests. */
  extraFiles?: Record<string, string>;
}

export interface BuiltRelease {
  manifest: ReleaseManifest;
  manifestPath: string;
  manifestHash: `0x${string}`;
  flistPath: string;
  seconds: number;
}

/** The entry of a bootable release, relative to its root. */
export const NODE_ENTRY = "packages/os/image/node-entry.sh";

const GUEST_FILES = ["vmlinux", "initramfs.cpio", "version", "accel-probe.json"];

export async function buildRelease(o: BuildReleaseOptions): Promise<BuiltRelease> {
  const started = Date.now();
  const version = o.version;
  if (!/^v?[0-9A-Za-z.+-]{1,63}$/.test(version)) throw new ReleaseBuildError(`version '${version}' is not valid`, { hint: "use a semantic version such as 2.0.0" });
  for (const need of ["package.json", "packages/zos/bin/zosd.ts", "node_modules"]) {
    if (!existsSync(join(o.root, need))) throw new ReleaseBuildError(`${join(o.root, need)} is missing`, { hint: "run the build from a set-up checkout (bash scripts/setup.sh)" });
  }
  mkdirSync(o.outDir, { recursive: true });
  const stage = join(o.outDir, `.stage-${version}-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    link(join(o.root, "package.json"), join(stage, "package.json"));
    link(join(o.root, "packages"), join(stage, "packages"));
    link(join(o.root, "node_modules"), join(stage, "node_modules"));
    // package-local node_modules/.cache and the like are not part of a release
    rmSync(join(stage, "node_modules", ".cache"), { recursive: true, force: true });
    const nodeBin = o.node === undefined ? process.execPath : o.node;
    if (nodeBin) {
      mkdirSync(join(stage, "node", "bin"), { recursive: true });
      link(nodeBin, join(stage, "node", "bin", "node"));
    }
    if (o.guest ?? true) {
      const guest = join(o.root, ".tools", "guest");
      mkdirSync(join(stage, ".tools", "guest"), { recursive: true });
      for (const f of GUEST_FILES) if (existsSync(join(guest, f))) link(join(guest, f), join(stage, ".tools", "guest", f));
      if (!existsSync(join(stage, ".tools", "guest", "vmlinux"))) throw new ReleaseBuildError(`no guest kernel in ${guest}`, { hint: "build it (bash packages/zos/scripts/setup.sh) or pass guest: false" });
    }
    if (o.system) {
      if (!existsSync(join(o.system, ".zgrid-system-root"))) throw new ReleaseBuildError(`${o.system} is not a node system root`, { hint: "build one with packages/os/scripts/build-system-root.sh" });
      link(o.system, join(stage, "system"));
    }
    for (const [rel, content] of Object.entries(o.extraFiles ?? {})) {
      if (rel.startsWith("/") || rel.split("/").includes("..")) throw new ReleaseBuildError(`extra file '${rel}' is not a relative path inside the release`);
      mkdirSync(dirname(join(stage, rel)), { recursive: true });
      // the stage holds hard links to the checkout: unlink first, never write through them
      rmSync(join(stage, rel), { force: true });
      writeFileSync(join(stage, rel), content);
    }
    writeFileSync(join(stage, "RELEASE"), `${version}\n`);
    const flistFile = `zgrid-${version}.fl`;
    const flistPath = join(o.outDir, flistFile);
    rmSync(flistPath, { force: true });
    const stores = o.stores ?? [`dir://${join(o.outDir, "blocks")}`];
    const tags: Record<string, string> = { "zgrid.release": version };
    // what the boot image runs from a release with a system root (packages/os/image/node-entry.sh)
    if (o.system) tags[TAGS.entrypoint] = JSON.stringify({ name: `/${NODE_ENTRY}`, args: [], env: {}, dir: "/" });
    const stats = await packFlist({ source: stage, output: flistPath, stores, tags, xattrs: false });
    const signed = await signFlist(flistPath, o.key);
    const manifest: ReleaseManifest = releaseManifestSchema.parse({
      format: "zgrid-release-v1", version,
      flist: { file: flistFile, root: signed.root, files: stats.files, bytes: stats.bytes },
      previous: { ...(o.previous?.min ? { min: o.previous.min } : {}), ...(o.previous?.max ? { max: o.previous.max } : {}) },
      stateSchema: o.stateSchema, migrations: o.migrations ?? [],
      entry: { ...(nodeBin ? { node: "node/bin/node" } : {}), zosd: "packages/zos/bin/zosd.ts" },
      builtAt: new Date().toISOString(),
    });
    const file = signReleaseManifest(manifest, o.key);
    const manifestPath = join(o.outDir, `zgrid-${version}.json`);
    writeFileSync(manifestPath, file);
    return { manifest, manifestPath, manifestHash: releaseFileHash(file), flistPath, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Hard-links a file or tree into the stage (a copy when across file systems). */
function link(from: string, to: string): void {
  const r = spawnSync("cp", ["-al", from, to], { encoding: "utf8" });
  if (r.status === 0) return;
  const c = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
  if (c.status !== 0) throw new ReleaseBuildError(`cannot stage ${from}: ${c.stderr.trim()}`);
}

/** The version recorded in an unpacked release tree (its RELEASE file), or undefined. */
export function releaseVersionOf(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, "RELEASE"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Reads a built flist's release tag (for `zgrid release inspect`). */
export function releaseTagOf(flistPath: string): string | undefined {
  return readFlistMeta(flistPath).tags["zgrid.release"];
}
