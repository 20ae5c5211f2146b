/**
 * The `zgrid` command's cache of type-stripped sources and V8's compile cache: the implementation
 * is `@zgrid/types/strip-cache` (JavaScript, so that zosd can load it with `node --import` before
 * any TypeScript; see there). `ZGRID_STRIP_CACHE=0` turns it off.
 *
 * @example
 * ```ts
 * installStripCache();                           // before the first import of project code
 * const { runCli } = await import("../src/cli.ts");
 * ```
 */
export { installStripCache, stripCacheDir } from "@zgrid/types/strip-cache";
