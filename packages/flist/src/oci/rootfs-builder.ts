/**
 * Applies OCI/Docker layer tarballs, in order, onto a directory: whiteouts (`.wh.<name>`) and
 * opaque directories (`.wh..wh..opq`) honoured; ownership, modes, mtimes, devices, FIFOs, hard
 * links and symlinks kept. Safety: entry paths may not contain `..`, and no entry may be written
 * through a symlink or non-directory from any layer, so nothing lands outside the root.
 *
 * @example
 * ```ts
 * const b = new RootfsBuilder("/tmp/rootfs");
 * for (const layer of layers) await b.applyLayer(layer.path);
 * b.finish();
 * ```
 */
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, createReadStream, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, readSync, rmSync, symlinkSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { OciError } from "../errors/flist-errors.ts";
import type { FlistXattr } from "../format/schema.ts";
import { restoreXattrs } from "../pack/xattrs.ts";
import { readTar, type TarEntry } from "./tar-reader.ts";

type Kind = "dir" | "file" | "symlink" | "other";

interface DirMeta { path: Buffer; mode: number; uid: number; gid: number; mtime: number }

/**
 * Splits a tar entry name into safe components (latin1 strings, one char per byte, so raw bytes
 * survive); throws on `..`.
 */
export function safeComponents(name: string | Buffer, what: string): string[] {
  const raw = typeof name === "string" ? Buffer.from(name, "utf8").toString("latin1") : name.toString("latin1");
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === ".." || p.includes("\0"))) {
    const shown = Buffer.from(raw, "latin1").toString("utf8");
    throw new OciError(`${what}: entry ${JSON.stringify(shown)} escapes the image root`, { details: { entry: shown }, hint: "the image is malicious or broken" });
  }
  return parts;
}

/** Opens a layer file, decompressing gzip or zstd by their magic bytes. */
export function openLayerFile(path: string): Readable {
  const head = Buffer.alloc(4);
  const fd = openSync(path, "r");
  try { readSync(fd, head, 0, 4, 0); } finally { closeSync(fd); }
  const raw = createReadStream(path);
  if (head[0] === 0x1f && head[1] === 0x8b) return raw.pipe(zlib.createGunzip());
  if (head.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
    if (!zstd) throw new OciError("zstd layers need Node >= 22.15");
    return raw.pipe(zstd()) as unknown as Readable;
  }
  return raw;
}

export class RootfsBuilder {
  readonly root: string;
  readonly #kinds = new Map<string, Kind>();
  readonly #dirs = new Map<string, DirMeta>();
  readonly #isRoot = process.getuid?.() === 0;
  /** xattrs from PAX `SCHILY.xattr.*` records, set at the end (chown would clear some). */
  readonly #xattrs = new Map<string, FlistXattr[]>();

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
    this.#kinds.set("", "dir");
  }

  #abs(rel: string): Buffer {
    return Buffer.concat([Buffer.from(this.root), Buffer.from("/"), Buffer.from(rel, "latin1")]);
  }

  /** Makes sure every parent of `parts` is a real directory created here (never a symlink). */
  #parents(parts: string[], what: string): void {
    for (let i = 1; i < parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      const kind = this.#kinds.get(rel);
      if (kind === undefined) {
        mkdirSync(this.#abs(rel), { mode: 0o755 });
        this.#kinds.set(rel, "dir");
      } else if (kind !== "dir") {
        throw new OciError(`${what}: entry ${parts.join("/")} would be written through a ${kind} (${rel})`, { hint: "the image is malicious or broken" });
      }
    }
  }

  #remove(rel: string): void {
    if (!this.#kinds.has(rel)) return;
    rmSync(this.#abs(rel), { recursive: true, force: true });
    const prefix = `${rel}/`;
    for (const k of [...this.#kinds.keys()]) {
      if (k === rel || k.startsWith(prefix)) {
        this.#kinds.delete(k);
        this.#dirs.delete(k);
        this.#xattrs.delete(k);
      }
    }
  }

  /** Applies one layer file (tar, tar+gzip or tar+zstd). */
  async applyLayer(path: string, what = path): Promise<void> {
    const source = openLayerFile(path);
    const thisLayer = new Set<string>();
    try {
      for await (const { entry, body } of readTar(source)) await this.#entry(entry, body, what, thisLayer);
    } catch (e) {
      if (e instanceof OciError) throw e;
      throw new OciError(`${what}: unreadable layer tarball (${(e as Error).message})`, { cause: e, hint: "the image is truncated or not a tar" });
    } finally {
      source.destroy();
    }
  }

  async #entry(h: TarEntry, body: (sink: (chunk: Buffer) => void) => Promise<void>, what: string, thisLayer: Set<string>): Promise<void> {
    const parts = safeComponents(h.name, what);
    if (parts.length === 0) return;
    const base = parts[parts.length - 1]!;
    if (base.startsWith(".wh.")) {
      const dir = parts.slice(0, -1).join("/");
      if (base === ".wh..wh..opq") {
        const prefix = dir === "" ? "" : `${dir}/`;
        for (const k of [...this.#kinds.keys()]) {
          if (k !== "" && k.startsWith(prefix) && !k.slice(prefix.length).includes("/") && !thisLayer.has(k)) this.#remove(k);
        }
      } else {
        this.#remove([...parts.slice(0, -1), base.slice(4)].join("/"));
      }
      return;
    }
    this.#parents(parts, what);
    const rel = parts.join("/");
    const abs = this.#abs(rel);
    const existing = this.#kinds.get(rel);
    thisLayer.add(rel);
    const mode = h.mode & 0o7777;
    const xattrs = [...h.pax.entries()].filter(([k]) => k.startsWith("SCHILY.xattr.")).map(([k, v]) => ({ name: Buffer.from(k.slice(13), "utf8"), value: v }));
    if (xattrs.length > 0 && h.type !== "symlink" && h.type !== "link") this.#xattrs.set(rel, xattrs);
    if (h.type === "dir") {
      if (existing !== "dir") {
        this.#remove(rel);
        mkdirSync(abs, { mode: 0o755 });
        this.#kinds.set(rel, "dir");
      }
      this.#dirs.set(rel, { path: abs, mode, uid: h.uid, gid: h.gid, mtime: h.mtime });
      return;
    }
    this.#remove(rel);
    if (h.type === "file") {
      const fd = openSync(abs, "wx", 0o600);
      try {
        await body((chunk) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off);
        });
      } finally {
        closeSync(fd);
      }
      this.#kinds.set(rel, "file");
    } else if (h.type === "symlink") {
      symlinkSync(h.linkname, abs);
      this.#kinds.set(rel, "symlink");
    } else if (h.type === "link") {
      const target = safeComponents(h.linkname, what).join("/");
      if (this.#kinds.get(target) !== "file") throw new OciError(`${what}: hard link ${rel} points to ${target}, which is not a regular file of the image`);
      linkSync(this.#abs(target), abs);
      this.#kinds.set(rel, "file");
      return; // the link shares the target's metadata
    } else if (h.type === "char" || h.type === "block" || h.type === "fifo") {
      const name = abs.toString("utf8");
      if (!Buffer.from(name).equals(abs)) throw new OciError(`${what}: device/fifo with a non-UTF-8 name is not supported`);
      const args = h.type === "fifo" ? [name, "p"] : [name, h.type === "char" ? "c" : "b", String(h.devmajor), String(h.devminor)];
      const r = spawnSync("mknod", args);
      if (r.status !== 0) throw new OciError(`${what}: cannot create ${rel}: ${r.stderr?.toString()}`);
      this.#kinds.set(rel, "other");
    } else {
      return; // unknown types carry no file
    }
    if (this.#isRoot) lchownSync(abs, h.uid, h.gid);
    if (h.type !== "symlink") chmodSync(abs, mode);
    lutimesSync(abs, h.mtime, h.mtime);
  }

  /** Sets directory metadata, deepest first (creating entries changed their mtimes). */
  finish(): void {
    restoreXattrs([...this.#xattrs.entries()].filter(([rel]) => this.#kinds.has(rel)).map(([rel, xattrs]) => ({ path: this.#abs(rel), xattrs })));
    const dirs = [...this.#dirs.entries()].sort((a, b) => b[0].split("/").length - a[0].split("/").length);
    for (const [rel, d] of dirs) {
      if (this.#kinds.get(rel) !== "dir") continue;
      if (this.#isRoot) lchownSync(d.path, d.uid, d.gid);
      chmodSync(d.path, d.mode);
      lutimesSync(d.path, d.mtime, d.mtime);
    }
  }
}
