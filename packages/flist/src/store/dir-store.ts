/**
 * dir:// store: blocks as files `<root>/<hh>/<id hex>` (rfs layout). Writes go to a temp file and
 * are renamed, so a reader never sees half a block.
 *
 * @example
 * ```ts
 * const store = new DirStore("/srv/blocks"); // url "dir:///srv/blocks"
 * ```
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import { blockPath, type BlockStore } from "./block-store.ts";

let tmpCounter = 0;

export class DirStore implements BlockStore {
  readonly root: string;
  readonly url: string;

  constructor(root: string) {
    this.root = root;
    this.url = `dir://${root}`;
  }

  async get(id: Uint8Array): Promise<Uint8Array> {
    try {
      return await readFile(join(this.root, blockPath(id)));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
        // rfs also accepts a flat layout.
        try {
          return await readFile(join(this.root, Buffer.from(id).toString("hex")));
        } catch {
          throw new BlockNotFoundError(Buffer.from(id).toString("hex"), { details: { store: this.url } });
        }
      }
      throw new StoreError(`cannot read block from ${this.url}`, { cause, details: { store: this.url } });
    }
  }

  async set(id: Uint8Array, data: Uint8Array): Promise<void> {
    const file = join(this.root, blockPath(id));
    try {
      await mkdir(join(file, ".."), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    } catch (cause) {
      throw new StoreError(`cannot write block to ${this.url}`, { cause, details: { store: this.url } });
    }
  }

  async has(id: Uint8Array): Promise<boolean> {
    try {
      await stat(join(this.root, blockPath(id)));
      return true;
    } catch {
      return false;
    }
  }
}
