/**
 * The Kubernetes image as a signed flist on a hub. The root tree comes from
 * scripts/build-image-root.sh (cached outside the clone, keyed by its inputs); it is packed once per
 * tree (the .fl and its blocks sit beside the tree), signed by `key` and pushed to `hub` (blocks the
 * hub has are skipped). `binDir` takes any Kubernetes release's server binaries; default the
 * Debian-source v1.20.2 build.
 *
 * @example
 * ```ts
 * const { url, version } = await ensureK8sFlist({ hub: info.hubUrl, key: twinKeyFromPrivateKey(info.farmerKey) });
 * ```
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TAGS, packFlist, pushFlist, signFlist } from "@zgrid/flist";
import type { TwinKey } from "@zgrid/types";
import { K8sImageError } from "./errors.ts";

const BUILD_ROOT = fileURLToPath(new URL("../scripts/build-image-root.sh", import.meta.url));
/** The image's entrypoint: the bootstrap (packages/k8s/image/zgrid-k8s). */
export const K8S_ENTRYPOINT = "/usr/local/sbin/zgrid-k8s";

export interface K8sFlistOptions {
  hub: string;
  key: TwinKey;
  /** A Kubernetes release's server binaries (default: the Debian-source v1.20.2 build). */
  binDir?: string;
  /** Name on the hub (default `kubernetes-<version>.fl`). */
  name?: string;
  onProgress?: (m: string) => void;
}

export interface K8sFlist {
  url: string;
  /** Kubernetes version of the binaries, e.g. v1.20.2. */
  version: string;
  /** The image root it was packed from. */
  root: string;
}

export async function ensureK8sFlist(o: K8sFlistOptions): Promise<K8sFlist> {
  const progress = o.onProgress ?? (() => undefined);
  progress("building the Kubernetes image root (cached in /var/cache/zgrid/kubernetes)");
  const root = (await runScript(BUILD_ROOT, o.binDir ? ["--bin", o.binDir] : [], progress)).trim().split("\n").pop()!;
  const version = readFileSync(join(root, "opt/zgrid/kubernetes-version"), "utf8").trim();
  const name = o.name ?? `kubernetes-${version}.fl`;
  const work = dirname(root);
  const fl = join(work, "image.fl");
  const blocks = `dir://${join(work, "blocks")}`;
  const signer = o.key.address.toLowerCase();
  const signed = join(work, `image.${signer}.fl`);
  if (!existsSync(fl)) {
    progress("packing the Kubernetes image into an flist (once per image)");
    const tmp = `${fl}.tmp`;
    rmSync(tmp, { force: true });
    await packFlist({ source: root, output: tmp, stores: [blocks], tags: { [TAGS.entrypoint]: JSON.stringify({ name: K8S_ENTRYPOINT, args: [], env: {}, dir: "/" }) } });
    renameSync(tmp, fl);
  }
  const url = `${o.hub.replace(/\/+$/, "")}/flists/${signer}/${name}`;
  const head = await fetch(url, { method: "HEAD" }).catch(() => undefined);
  if (head?.ok && existsSync(signed)) return { url, version, root };
  progress(`signing and pushing ${name} to ${o.hub}`);
  writeFileSync(signed, readFileSync(fl));
  await signFlist(signed, o.key);
  const pushed = await pushFlist({ hub: o.hub, flist: signed, stores: [blocks], key: o.key, name });
  return { url: pushed.url, version, root };
}

function runScript(script: string, args: string[], progress: (m: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: string[] = [];
    const p = spawn("bash", [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => {
      const s = b.toString();
      err.push(s);
      for (const line of s.split("\n")) if (line.includes("==>")) progress(line.slice(line.indexOf("==>") + 4).replaceAll("\u001b[0m", ""));
    });
    p.once("error", (e) => reject(new K8sImageError(`cannot run ${script}: ${e.message}`)));
    p.once("exit", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new K8sImageError(`building the Kubernetes image failed (exit ${code})`, { details: { stderr: err.join("").slice(-2000) }, hint: err.join("").trim().split("\n").pop() ?? "" }));
    });
  });
}
