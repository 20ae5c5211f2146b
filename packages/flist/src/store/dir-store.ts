/**
 * dir:// store: blocks as files. Released rfs (v2.0.x) reads and writes the flat layout
 * `<root>/<id hex>`; rfs's development branch uses `<root>/<hh>/<id hex>`. The store writes the
 * flat layout by default (`layout: "sharded"` or `"both"` by option) and reads and `has()` both, so
 * stores written by any version work. Writes go to a temp file and are renamed, so a reader never
 * sees half a block.
 *
 * @example
 * ```ts
 * const store = new DirStore("/srv/blocks");                       // url "dir:///srv/blocks", flat
 * const both = new DirStore("/srv/blocks", { layout: "both" });   // readable by every rfs
 * ```
 */
import { existsSync, readFile as readFileCallback, readdirSync, rmSync } from "node:fs";
import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import { blockPath, type BlockStore } from "./block-store.ts";

let tmpCounter = 0;
// The callback readFile reads a block in one read; fs/promises' reads in chunks with a promise per
// step: ~40% less CPU per block (bench/flist/verify-listing.ts, store read).
const readFile = promisify(readFileCallback);

export type DirLayout = "flat" | "sharded" | "both";

export interface DirStoreOptions {
  /** Layout of new blocks. Default "flat" (what released rfs reads). */
  layout?: DirLayout;
}

export class DirStore implements BlockStore {
  readonly root: string;
  readonly url: string;
  readonly layout: DirLayout;

  constructor(root: string, options: DirStoreOptions = {}) {
    this.root = root;
    this.url = `dir://${root}`;
    this.layout = options.layout ?? "flat";
  }

  #paths(id: Uint8Array): [string, string] {
    return [join(this.root, Buffer.from(id).toString("hex")), join(this.root, blockPath(id))];
  }

  /** Where the block may be: the flat layout first, then the sharded one (BlockStore.localPaths). */
  localPaths(id: Uint8Array): string[] {
    return this.#paths(id);
  }

  /** Path of the stored block in either layout, or undefined. */
  pathOf(id: Uint8Array): string | undefined {
    return this.#paths(id).find((p) => existsSync(p));
  }

  async get(id: Uint8Array): Promise<Uint8Array> {
    for (const path of this.#paths(id)) {
      try {
        return await readFile(path);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw new StoreError(`cannot read block from ${this.url}`, { cause, details: { store: this.url } });
      }
    }
    throw new BlockNotFoundError(Buffer.from(id).toString("hex"), { details: { store: this.url } });
  }

  async set(id: Uint8Array, data: Uint8Array): Promise<void> {
    const [flat, sharded] = this.#paths(id);
    const targets = this.layout === "flat" ? [flat] : this.layout === "sharded" ? [sharded] : [flat, sharded];
    try {
      for (const file of targets) {
        await mkdir(join(file, ".."), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
        await writeFile(tmp, data);
        await rename(tmp, file);
      }
    } catch (cause) {
      throw new StoreError(`cannot write block to ${this.url}`, { cause, details: { store: this.url } });
    }
  }

  async has(id: Uint8Array): Promise<boolean> {
    for (const path of this.#paths(id)) {
      try {
        await stat(path);
        return true;
      } catch { /* try the other layout */ }
    }
    return false;
  }

  /**
   * Removes what a writer killed mid-`set` left of `id` (its temp files, never the block itself).
   * Synchronous; for start-up after a crash.
   */
  discardPartial(id: Uint8Array): void {
    for (const path of this.#paths(id)) {
      const prefix = `${basename(path)}.tmp-`;
      let names: string[];
      try {
        names = readdirSync(dirname(path));
      } catch {
        continue;
      }
      for (const n of names) if (n.startsWith(prefix)) rmSync(join(dirname(path), n), { force: true });
    }
  }
}
