/**
 * Where an OCI image comes from, reduced to what the importer needs: the image config and the
 * layer files in order (all digests checked). Three sources: an OCI image layout directory, a
 * docker-archive tarball (`docker save` / `skopeo copy docker-archive:`) and a registry.
 *
 * @example
 * ```ts
 * const image = await readOciLayout("/tmp/layout", "latest");
 * image.config.config?.Entrypoint; image.layers[0].path;
 * ```
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import tar from "tar-stream";
import { OciError } from "../errors/flist-errors.ts";
import { safeComponents } from "./rootfs-builder.ts";

export interface ImageConfig {
  config?: {
    Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string;
    User?: string; StopSignal?: string; ExposedPorts?: Record<string, unknown> | null;
    /** Durations in nanoseconds, as Docker records them. */
    Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null;
  };
  architecture?: string;
  os?: string;
}

export interface ImageLayer {
  digest?: string;
  path: string;
}

export interface ImageSource {
  config: ImageConfig;
  layers: ImageLayer[];
  /** The manifest digest (registry sources). */
  digest?: string;
}

interface Descriptor { mediaType?: string; digest: string; size?: number; annotations?: Record<string, string>; platform?: { os?: string; architecture?: string } }
interface Manifest { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] }

const MAX_JSON = 16 * 2 ** 20;

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new OciError(`${what} is not valid JSON`, { cause });
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return `sha256:${h.digest("hex")}`;
}

export function digestHex(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new OciError(`unsupported digest ${digest}`, { details: { digest } });
  return m[1]!;
}

/** Picks linux/amd64 (or the only entry) of an image index. */
export function pickPlatform(index: Manifest, what: string): Descriptor {
  const list = index.manifests ?? [];
  const pick = list.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ?? (list.length === 1 ? list[0] : undefined);
  if (!pick) throw new OciError(`${what}: no linux/amd64 image in the index`, { details: { platforms: list.map((m) => m.platform) } });
  return pick;
}

/** Reads an OCI image layout directory (index.json, blobs/sha256/...). */
export async function readOciLayout(dir: string, ref?: string): Promise<ImageSource> {
  if (!existsSync(join(dir, "index.json"))) throw new OciError(`${dir} is not an OCI image layout (no index.json)`, { hint: "pass a directory made by umoci/skopeo (oci:DIR)" });
  const blob = async (d: Descriptor): Promise<string> => {
    const path = join(dir, "blobs", "sha256", digestHex(d.digest));
    if (!existsSync(path)) throw new OciError(`${dir}: blob ${d.digest} is missing`);
    if ((await sha256File(path)) !== d.digest) throw new OciError(`${dir}: blob ${d.digest} does not match its digest`);
    return path;
  };
  const readJson = async <T>(d: Descriptor): Promise<T> => {
    const path = await blob(d);
    if (statSync(path).size > MAX_JSON) throw new OciError(`${dir}: ${d.digest} is too large for a manifest`);
    return parseJson<T>(readFileSync(path, "utf8"), d.digest);
  };
  const index = parseJson<Manifest>(readFileSync(join(dir, "index.json"), "utf8"), "index.json");
  let desc = ref ? index.manifests?.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref) : index.manifests?.length === 1 ? index.manifests[0] : undefined;
  if (!desc) throw new OciError(`${dir}: no image ${ref ? `tagged ${ref}` : "(several in the index: pass a tag)"}`, { details: { tags: index.manifests?.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]) } });
  let manifest = await readJson<Manifest>(desc);
  if (manifest.manifests) {
    desc = pickPlatform(manifest, dir);
    manifest = await readJson<Manifest>(desc);
  }
  if (!manifest.config) throw new OciError(`${dir}: manifest has no config`);
  const config = await readJson<ImageConfig>(manifest.config);
  const layers: ImageLayer[] = [];
  for (const l of manifest.layers ?? []) layers.push({ digest: l.digest, path: await blob(l) });
  return { config, layers };
}

/** Unpacks a docker-archive tarball (regular files only, names checked) into `workDir`, then reads it. */
export async function readDockerArchive(tarPath: string, workDir: string): Promise<ImageSource> {
  mkdirSync(workDir, { recursive: true });
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(tarPath), extract).catch((e: unknown) => extract.destroy(e as Error));
  const files = new Set<string>();
  try {
    for await (const entry of extract) {
      const parts = safeComponents(entry.header.name, tarPath);
      if (entry.header.type !== "file" || parts.length === 0) {
        entry.resume();
        continue;
      }
      const flat = parts.join("__");
      await pipeline(entry, createWriteStream(join(workDir, flat)));
      files.add(parts.join("/"));
    }
    await feeding;
  } catch (e) {
    if (e instanceof OciError) throw e;
    throw new OciError(`${tarPath}: unreadable docker-archive tarball (${(e as Error).message})`, { cause: e });
  }
  const local = (name: string): string => {
    const parts = safeComponents(name, tarPath);
    if (!files.has(parts.join("/"))) throw new OciError(`${tarPath}: ${name} is missing from the archive`);
    return join(workDir, parts.join("__"));
  };
  if (!files.has("manifest.json")) {
    if (files.has("index.json") && files.has("oci-layout")) throw new OciError(`${tarPath} is an OCI archive: unpack it and use the layout`);
    throw new OciError(`${tarPath} is not a docker-archive (no manifest.json)`);
  }
  const manifest = parseJson<Array<{ Config: string; Layers: string[] }>>(readFileSync(local("manifest.json"), "utf8"), "manifest.json");
  const first = manifest[0];
  if (!first) throw new OciError(`${tarPath}: manifest.json lists no image`);
  const config = parseJson<ImageConfig>(readFileSync(local(first.Config), "utf8"), first.Config);
  return { config, layers: first.Layers.map((l) => ({ path: local(l) })) };
}
