/**
 * The hub's `POST /convert {image, name?}`: pulls the image from its registry, converts it into
 * the hub's store, signs it with the hub key and publishes it under the hub's address. Cached by
 * digest: the image's manifest digest is read first, and when the hub already converted that
 * digest (and still holds the flist) it answers at once, without pulling a layer. Progress streams
 * back as JSON lines; the last line is `{phase:"published", ...entry, digest, cached}` or `{error}`.
 *
 * @example
 * ```sh
 * curl -XPOST hub/convert -H "x-zgrid-auth: …" -d '{"image":"127.0.0.1:5000/demo:1"}'
 * ```
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import type { TwinKey } from "@zgrid/types";
import { convertOci } from "../oci/convert-oci.ts";
import { parseImageReference } from "../oci/registry-client.ts";
import type { DirStore } from "../store/dir-store.ts";
import type { HubFlistEntry } from "./hub-server.ts";

export interface ConvertRequest {
  image?: string;
  name?: string;
  key: TwinKey;
  workDir: string;
  /** Holds `convert-cache.json` (digest → flist name). */
  dataDir: string;
  store: DirStore;
  accept(tmp: string, owner: string, name: string): Promise<HubFlistEntry>;
  /** The flist `name` of the hub's own twin, when the hub still has it. */
  existing(owner: string, name: string): HubFlistEntry | undefined;
}

class CacheHit extends Error {
  readonly entry: HubFlistEntry;
  constructor(entry: HubFlistEntry) {
    super("cached");
    this.entry = entry;
  }
}

/** `registry/repo/name:tag` → `name-tag.fl` (what a converted image is called by default). */
export function convertedName(image: string): string {
  const ref = parseImageReference(image);
  const base = ref.repository.replace(/^.*\//, "");
  const tag = ref.reference.startsWith("sha256:") ? ref.reference.slice(7, 19) : ref.reference;
  return `${base}-${tag}.fl`.replace(/[^A-Za-z0-9._-]/g, "-");
}

export async function handleConvert(res: ServerResponse, req: ConvertRequest): Promise<void> {
  const bad = (error: string) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error }));
  };
  if (!req.image || typeof req.image !== "string" || req.image.length > 512) return bad("body must be {image, name?}");
  let name: string;
  try {
    name = req.name ?? convertedName(req.image);
  } catch (e) {
    return bad((e as Error).message);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.fl$/.test(name)) return bad("name must end in .fl and use [A-Za-z0-9._-]");
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (o: unknown): void => void res.write(`${JSON.stringify(o)}\n`);
  mkdirSync(req.workDir, { recursive: true });
  const cacheFile = join(req.dataDir, "convert-cache.json");
  const cache = readCache(cacheFile);
  const tmp = join(req.workDir, `convert-${Date.now()}-${Math.random().toString(36).slice(2)}.fl`);
  try {
    const result = await convertOci({
      source: { registry: req.image }, output: tmp, stores: req.store, key: req.key, workDir: req.workDir, onProgress: line,
      onManifest: (digest) => {
        const known = cache[digest];
        const entry = known ? req.existing(req.key.address, known) : undefined;
        if (entry) throw new CacheHit({ ...entry, ...{ digest } });
      },
    });
    const entry = await req.accept(tmp, req.key.address, name);
    if (result.digest) {
      const fresh = readCache(cacheFile);
      fresh[result.digest] = name;
      writeFileSync(`${cacheFile}.tmp`, JSON.stringify(fresh));
      renameSync(`${cacheFile}.tmp`, cacheFile);
    }
    line({ phase: "published", ...entry, digest: result.digest, cached: false });
  } catch (e) {
    if (e instanceof CacheHit) line({ phase: "published", ...e.entry, cached: true });
    else line({ error: (e as Error).message.split("\n")[0] });
  } finally {
    rmSync(tmp, { force: true });
  }
  res.end();
}

function readCache(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as unknown;
    return v && typeof v === "object" ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}
