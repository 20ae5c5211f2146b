/**
 * `zgrid release build|propose`: node software releases (@zgrid/upgrader). `build` packs this
 * checkout (code, node_modules, Node, guest kernel) into a signed flist + signed manifest; the key
 * is ZGRID_RELEASE_KEY (0x private key) or ZGRID_MNEMONIC. `propose` puts the manifest to a
 * governance vote (council members only).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const collect = (v: string, prev: string[]) => [...prev, v];

export function registerReleaseCommands(program: Command, ctx: Ctx): void {
  const release = program.command("release").description("node software releases: build (signed flist + manifest), propose to governance");
  release.command("build").description("build a signed release of this checkout")
    .requiredOption("--version <version>", "semantic version, e.g. 2.0.0")
    .requiredOption("--out <dir>", "where the manifest, flist and blocks go")
    .option("--root <dir>", "checkout to release", REPO)
    .option("--store <url>", "block store (repeatable; default <out>/blocks)", collect, [])
    .option("--state-schema <n>", "node state schema this release writes", "1")
    .option("--min-previous <version>", "oldest version that may upgrade to it")
    .option("--max-previous <version>", "newest version that may upgrade to it")
    .option("--migration <text>", "migration note for voters (repeatable)", collect, [])
    .option("--no-node", "leave Node out (nodes run it with the upgrader's Node)")
    .option("--no-guest", "leave the guest kernel/initramfs out")
    .option("--system <dir>", "a node system root (packages/os/scripts/build-system-root.sh): the release then network-boots stateless nodes")
    .action(async (o: { version: string; out: string; root: string; store: string[]; stateSchema: string; minPrevious?: string; maxPrevious?: string; migration: string[]; node: boolean; guest: boolean; system?: string }) => {
      const { io } = ctx();
      const { buildRelease } = await import("@zgrid/upgrader");
      const { twinKeyFromMnemonic, twinKeyFromPrivateKey } = await import("@zgrid/types");
      const { InputError } = await sdk();
      const key = process.env.ZGRID_RELEASE_KEY ? twinKeyFromPrivateKey(process.env.ZGRID_RELEASE_KEY) : process.env.ZGRID_MNEMONIC ? twinKeyFromMnemonic(process.env.ZGRID_MNEMONIC) : undefined;
      if (!key) throw new InputError("no release key", { hint: "set ZGRID_RELEASE_KEY (0x + 64 hex) or ZGRID_MNEMONIC" });
      const schema = Number(o.stateSchema);
      if (!Number.isInteger(schema) || schema < 1) throw new InputError(`--state-schema ${o.stateSchema} is not a positive integer`);
      const r = await buildRelease({
        root: resolve(o.root), version: o.version, outDir: resolve(o.out), key, stateSchema: schema, migrations: o.migration,
        previous: { ...(o.minPrevious ? { min: o.minPrevious } : {}), ...(o.maxPrevious ? { max: o.maxPrevious } : {}) },
        ...(o.store.length ? { stores: o.store } : {}), ...(o.node ? {} : { node: false as const }), guest: o.guest,
        ...(o.system ? { system: resolve(o.system) } : {}),
      });
      io.result({ version: r.manifest.version, manifest: r.manifestPath, manifestHash: r.manifestHash, flist: r.flistPath, root: r.manifest.flist.root, files: r.manifest.flist.files, bytes: r.manifest.flist.bytes, signer: key.address, seconds: r.seconds },
        () => `release ${r.manifest.version}: ${r.manifestPath} (hash ${r.manifestHash}), flist ${r.flistPath}, ${r.manifest.flist.files} files, ${(r.manifest.flist.bytes / 2 ** 20).toFixed(0)} MiB, signed by ${key.address}\nnext: publish both files, then zgrid release propose --version ${r.manifest.version} --manifest ${r.manifestPath} --url URL`);
    });
  release.command("propose").description("propose a built release to governance (council members)")
    .requiredOption("--version <version>").requiredOption("--manifest <file>", "the release file (its hash is what farms vote on)")
    .requiredOption("--url <url>", "where nodes download the release file").option("--voting-seconds <s>", "voting period", "604800")
    .action(async (o: { version: string; manifest: string; url: string; votingSeconds: string }) => {
      const { opts, io } = ctx();
      const { releaseFileHash } = await import("@zgrid/upgrader");
      const manifestHash = releaseFileHash(readFileSync(o.manifest));
      await withGrid(opts, async (grid) => {
        const id = await grid.chain.proposeRelease({ version: o.version, manifestHash, manifestUrl: o.url, votingSeconds: BigInt(o.votingSeconds) });
        io.result({ proposalId: id, version: o.version, manifestHash, manifestUrl: o.url }, () => `proposal ${id}: release ${o.version} (${manifestHash}); farmers vote with zgrid governance, nodes follow once approved`);
      });
    });
}
