/**
 * `zgrid image push IMAGE [--name app]`: an OCI image (registry reference, `--oci-layout DIR[:tag]`
 * or `--docker-archive TAR`) converted here, signed with your twin key (from the local grid's
 * config, or ZGRID_MNEMONIC; never printed), its blocks pushed to the hub after ONE batch check of
 * which ones the hub lacks, then usable by name: `zgrid vm deploy web --flist app`, `image: app`.
 * Progress bars on a terminal; JSON lines on stderr with --json; plain lines otherwise.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { hubAccess, sdk, type Ctx } from "../context.ts";

export function registerImageCommands(program: Command, ctx: Ctx): void {
  const image = program.command("image").description("container images: convert, sign and push to the hub (then usable by name)");
  image.command("push [image]").description("convert an OCI image to a signed flist and push it to the hub: `zgrid image push 127.0.0.1:5000/shop/app:1.0`")
    .option("--name <name>", "name on the hub (default: the image's name without registry and tag)")
    .option("--oci-layout <dir[:tag]>", "read the image from an OCI layout directory instead of a registry")
    .option("--docker-archive <tar>", "read the image from a `docker save` tarball")
    .option("--insecure", "plain http to the registry (default only for localhost)")
    .action(async (ref: string | undefined, o: { name?: string; ociLayout?: string; dockerArchive?: string; insecure?: boolean }) => {
      const { opts, io } = ctx();
      const { InputError } = await sdk();
      const flist = await import("@zgrid/flist");
      if (!ref && !o.ociLayout && !o.dockerArchive) throw new InputError("which image? give a reference like registry:5000/app:1.0, or --oci-layout / --docker-archive", { hint: "zgrid image push --help" });
      const source = o.ociLayout
        ? (() => { const [layout, tag] = o.ociLayout.split(/:(?=[^/]*$)/); return { layout: layout!, ...(tag ? { tag } : {}) }; })()
        : o.dockerArchive ? { dockerArchive: o.dockerArchive } : { registry: ref!, ...(o.insecure ? { insecure: true } : {}) };
      const name = (o.name ?? defaultName(ref ?? o.ociLayout ?? o.dockerArchive ?? "image")).replace(/\.fl$/, "");
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/.test(name)) throw new InputError(`'${name}' cannot be a flist name`, { hint: "use --name with letters, digits, . _ -" });
      const { hubUrl, key } = await hubAccess(opts);
      const cache = join(opts.dataDir, "images");
      mkdirSync(join(cache, "blocks"), { recursive: true });
      const out = join(cache, `${name}.fl.tmp-${process.pid}`);
      const { progressReporter } = await import("../progress.ts");
      const bar = progressReporter(io, opts.json);
      try {
        const t0 = Date.now();
        const converted = await flist.convertOci({ source, output: out, stores: [`dir://${join(cache, "blocks")}`], key, workDir: cache, onProgress: (e) => bar.event(e) });
        const t1 = Date.now();
        const pushed = await flist.pushFlist({ hub: hubUrl, flist: out, name: `${name}.fl`, stores: [`dir://${join(cache, "blocks")}`], key, onProgress: (e) => bar.event(e) });
        bar.done();
        const result = {
          name, url: pushed.url, owner: pushed.owner, digest: converted.digest ?? "", files: converted.stats.files, bytes: converted.stats.bytes,
          uploadedBlocks: pushed.uploadedBlocks, convertMs: t1 - t0, pushMs: Date.now() - t1, startup: converted.startup,
        };
        io.result(result, () => `pushed '${name}' (${result.files} files, ${result.uploadedBlocks} new blocks) → ${pushed.url}\nuse it: zgrid vm deploy NAME --flist ${name}   or   image: ${name}`);
      } finally {
        bar.done();
        rmSync(out, { force: true });
      }
    });
}

/** `registry:5000/shop/app:1.0` → `app`; a layout dir or tarball → its base name. */
export function defaultName(ref: string): string {
  const last = ref.replace(/\/+$/, "").split("/").pop() ?? "image";
  return last.replace(/@sha256:.*$/, "").replace(/:[^:]*$/, "").replace(/\.(tar|tgz|tar\.gz)$/, "") || "image";
}
