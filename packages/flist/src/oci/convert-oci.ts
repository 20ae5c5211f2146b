/**
 * Converts an OCI image into a flist without Docker: layers applied in order (whiteouts
 * honoured) into a temporary root, the startup file written like rfs, packed, optionally signed.
 * Sources: an OCI layout dir, a docker-archive tarball or a registry reference.
 *
 * @example
 * ```ts
 * await convertOci({ source: { registry: "127.0.0.1:5000/demo:1" }, output: "demo.fl", stores: ["dir:///srv/blocks"], key });
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TwinKey } from "@zgrid/types";
import { TAGS } from "../format/schema.ts";
import { packFlist, type PackStats } from "../pack/pack-flist.ts";
import { signFlist } from "../sign/sign-flist.ts";
import type { BlockStore } from "../store/block-store.ts";
import { readDockerArchive, readOciLayout, type ImageSource } from "./image-source.ts";
import { pullImage } from "./registry-client.ts";
import { RootfsBuilder } from "./rootfs-builder.ts";
import { startupFromConfig, startupToml, type Startup } from "./startup-file.ts";

/** Tag holding the image's ExposedPorts, comma-separated (`80/tcp,443/tcp`). */
export const PORTS_TAG = "zgrid.ports";

export type OciSource =
  | { layout: string; tag?: string }
  | { dockerArchive: string }
  | { registry: string; insecure?: boolean; username?: string; password?: string };

export interface ConvertOptions {
  source: OciSource;
  output: string;
  stores: BlockStore | string[];
  routes?: Array<{ start: number; end: number; url: string }>;
  /** Signs the result with this twin key. */
  key?: TwinKey;
  /** Temp space (default: the OS temp dir). */
  workDir?: string;
  onProgress?(event: { phase: string; [k: string]: unknown }): void;
  /** Registry sources: called with the manifest digest before any layer is pulled (throw to stop). */
  onManifest?(digest: string): void | Promise<void>;
}

export interface ConvertResult {
  /** The manifest digest (registry sources). */
  digest?: string;
  stats: PackStats;
  startup: Startup;
  layers: number;
  signer?: string;
}

function describe(source: OciSource): string {
  return "layout" in source ? `oci:${source.layout}${source.tag ? `:${source.tag}` : ""}` : "dockerArchive" in source ? `docker-archive:${source.dockerArchive}` : `docker://${source.registry}`;
}

export async function convertOci(options: ConvertOptions): Promise<ConvertResult> {
  const work = mkdtempSync(join(options.workDir ?? tmpdir(), "zgrid-oci-"));
  const progress = options.onProgress ?? (() => undefined);
  try {
    const s = options.source;
    progress({ phase: "fetch", source: describe(s) });
    let image: ImageSource;
    if ("layout" in s) image = await readOciLayout(s.layout, s.tag);
    else if ("dockerArchive" in s) image = await readDockerArchive(s.dockerArchive, join(work, "archive"));
    else image = await pullImage(s.registry, { workDir: join(work, "blobs"), insecure: s.insecure, username: s.username, password: s.password, onProgress: (e) => progress(e), ...(options.onManifest ? { onManifest: options.onManifest } : {}) });
    const rootfs = join(work, "rootfs");
    const builder = new RootfsBuilder(rootfs);
    for (const [i, layer] of image.layers.entries()) {
      progress({ phase: "layer", index: i + 1, of: image.layers.length, digest: layer.digest });
      await builder.applyLayer(layer.path, `${describe(s)} layer ${i + 1}`);
    }
    const startup = startupFromConfig(image.config);
    // ExposedPorts ("80/tcp,443/tcp"): shown to users (`vm get` suggests only ports the image serves)
    const ports = Object.keys(image.config.config?.ExposedPorts ?? {}).filter((p) => /^\d{1,5}(\/(tcp|udp|sctp))?$/.test(p)).slice(0, 64).join(",");
    writeFileSync(join(rootfs, ".startup.toml"), startupToml(startup), { mode: 0o644 });
    builder.finish();
    progress({ phase: "pack" });
    const stats = await packFlist({
      source: rootfs, output: options.output, stores: options.stores, routes: options.routes,
      tags: { [TAGS.entrypoint]: JSON.stringify(startup), "zgrid.source": describe(s), ...(image.digest ? { "zgrid.image-digest": image.digest } : {}), ...(ports ? { [PORTS_TAG]: ports } : {}) },
    });
    let signer: string | undefined;
    if (options.key) signer = (await signFlist(options.output, options.key)).signer;
    progress({ phase: "done", files: stats.files, bytes: stats.bytes });
    return { stats, startup, layers: image.layers.length, signer, ...(image.digest ? { digest: image.digest } : {}) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
