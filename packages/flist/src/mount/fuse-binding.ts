/**
 * Loads fuse-native and tells how it passes names. The addon shipped by npm converts every name
 * to and from UTF-8 (non-UTF-8 bytes become U+FFFD, unrecoverably); scripts/setup.sh rebuilds it
 * with Latin-1 conversions (packages/flist/scripts/build-fuse-bytes.sh), where one JS char is one
 * byte, so names reach the mount and come back byte for byte. `encoding` is the Buffer encoding
 * the mount must use for every name and path it exchanges with fuse-native.
 *
 * @example
 * ```ts
 * const { Fuse, encoding } = loadFuseBinding(); // encoding: "latin1" after setup, else "utf8"
 * new Fuse(mnt, new FlistFs(reader, fetcher, { encoding }).operations(), {}).mount(cb);
 * ```
 */
import { createRequire } from "node:module";

export interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
export type FuseCtor = new (mnt: string, ops: unknown, opts: Record<string, unknown>) => FuseInstance;

export interface FuseBinding {
  Fuse: FuseCtor;
  /** "latin1": names are exact bytes (the rebuilt addon); "utf8": the npm prebuild (lossy). */
  encoding: "latin1" | "utf8";
}

export function loadFuseBinding(): FuseBinding {
  const require = createRequire(import.meta.url);
  const Fuse = require("fuse-native") as FuseCtor;
  // The same addon fuse-native's index.js loaded (node-gyp-build caches the module by path).
  const fuseDir = require.resolve("fuse-native").replace(/\/index\.js$/, "");
  const gypBuild = createRequire(require.resolve("fuse-native"))("node-gyp-build") as (dir: string) => { zgrid_byte_paths?: number };
  return { Fuse, encoding: gypBuild(fuseDir).zgrid_byte_paths === 1 ? "latin1" : "utf8" };
}
