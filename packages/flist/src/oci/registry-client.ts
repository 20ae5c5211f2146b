/**
 * Pulls an image from a registry (distribution v2 HTTP API) without Docker: manifest (index ->
 * linux/amd64), config and layers, each checked against its sha256 digest. Bearer token auth
 * (WWW-Authenticate challenge, anonymous or with credentials) and basic auth are supported.
 *
 * @example
 * ```ts
 * const image = await pullImage("127.0.0.1:5000/demo/app:1.0", { workDir: "/tmp/pull", insecure: true });
 * ```
 */
import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OciError } from "../errors/flist-errors.ts";
import { digestHex, pickPlatform, type ImageConfig, type ImageSource } from "./image-source.ts";

export interface ImageReference {
  registry: string;
  repository: string;
  reference: string;
}

export interface PullOptions {
  workDir: string;
  /** Use http:// (default for localhost and 127.0.0.1). */
  insecure?: boolean;
  username?: string;
  password?: string;
  onProgress?(event: { phase: string; digest?: string; bytes?: number }): void;
  /**
   * Called with the image's manifest digest (the linux/amd64 one of an index) before any blob is
   * fetched; throwing stops the pull there (a converter that already has this digest).
   */
  onManifest?(digest: string): void | Promise<void>;
}

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Parses `[registry/]repo[:tag|@digest]` the way docker does (Docker Hub by default). */
export function parseImageReference(ref: string): ImageReference {
  const clean = ref.replace(/^docker:\/\//, "");
  let rest = clean;
  let registry = "registry-1.docker.io";
  const slash = clean.indexOf("/");
  if (slash > 0 && /[.:]|^localhost$/.test(clean.slice(0, slash))) {
    registry = clean.slice(0, slash);
    rest = clean.slice(slash + 1);
  }
  let reference = "latest";
  const at = rest.indexOf("@");
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon > 0) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (registry === "registry-1.docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(rest)) throw new OciError(`invalid image reference ${ref}`);
  return { registry, repository: rest, reference };
}

export async function pullImage(ref: string, options: PullOptions): Promise<ImageSource> {
  const image = parseImageReference(ref);
  const insecure = options.insecure ?? /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(image.registry);
  const base = `${insecure ? "http" : "https"}://${image.registry}/v2/${image.repository}`;
  let token: string | undefined;
  const basic = options.username ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}` : undefined;

  const request = async (url: string, accept?: string): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (token) headers.authorization = `Bearer ${token}`;
    else if (basic) headers.authorization = basic;
    let res: Response;
    try {
      res = await fetch(url, { headers });
    } catch (cause) {
      throw new OciError(`cannot reach registry ${image.registry}`, { cause, details: { url } });
    }
    if (res.status === 401 && !token) {
      const challenge = res.headers.get("www-authenticate") ?? "";
      await res.body?.cancel();
      if (!/^Bearer /i.test(challenge)) throw new OciError(`registry ${image.registry} wants credentials`, { details: { challenge }, hint: "pass username/password" });
      const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      if (!params.realm) throw new OciError(`registry ${image.registry} sent a token challenge without realm`);
      const tokenUrl = new URL(params.realm);
      if (params.service) tokenUrl.searchParams.set("service", params.service);
      tokenUrl.searchParams.set("scope", params.scope ?? `repository:${image.repository}:pull`);
      const tr = await fetch(tokenUrl, { headers: basic ? { authorization: basic } : {} });
      if (!tr.ok) throw new OciError(`token request to ${tokenUrl.origin} failed (${tr.status})`);
      const body = (await tr.json()) as { token?: string; access_token?: string };
      token = body.token ?? body.access_token;
      if (!token) throw new OciError(`token service ${tokenUrl.origin} returned no token`);
      return request(url, accept);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new OciError(`registry ${image.registry} answered ${res.status} for ${url}`, { details: { status: res.status } });
    }
    return res;
  };

  const manifestJson = async (reference: string): Promise<{ body: Record<string, unknown>; digest: string }> => {
    const res = await request(`${base}/manifests/${reference}`, ACCEPT);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== digest) throw new OciError(`manifest ${reference} does not match its digest`);
    return { body: JSON.parse(bytes.toString()) as Record<string, unknown>, digest };
  };

  mkdirSync(options.workDir, { recursive: true });
  const blob = async (digest: string): Promise<string> => {
    const path = join(options.workDir, digestHex(digest));
    const res = await request(`${base}/blobs/${digest}`);
    const hash = createHash("sha256");
    let bytes = 0;
    const tmp = `${path}.partial`;
    await pipeline(Readable.fromWeb(res.body! as never), async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        hash.update(c);
        bytes += c.length;
        yield c;
      }
    }, createWriteStream(tmp));
    if (`sha256:${hash.digest("hex")}` !== digest) throw new OciError(`blob ${digest} from ${image.registry} does not match its digest`);
    renameSync(tmp, path);
    options.onProgress?.({ phase: "blob", digest, bytes });
    return path;
  };

  options.onProgress?.({ phase: "manifest" });
  let { body: manifest, digest } = await manifestJson(image.reference);
  if (Array.isArray(manifest.manifests)) {
    const pick = pickPlatform(manifest as never, ref);
    ({ body: manifest, digest } = await manifestJson(pick.digest));
  }
  await options.onManifest?.(digest);
  const configDesc = manifest.config as { digest: string } | undefined;
  if (!configDesc) throw new OciError(`${ref}: manifest has no config (schema 1 manifests are not supported)`);
  const config = JSON.parse(readFileSync(await blob(configDesc.digest), "utf8")) as ImageConfig;
  const layers = [];
  for (const l of (manifest.layers as Array<{ digest: string }> | undefined) ?? []) layers.push({ digest: l.digest, path: await blob(l.digest) });
  return { config, layers, digest };
}
