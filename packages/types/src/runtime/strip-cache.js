// @ts-check
/**
 * A cache of type-stripped sources for zgrid's processes (the `zgrid` command, zosd). Node strips
 * the types of every `.ts` file it loads, each time, with its bundled TypeScript stripper (amaro: a
 * wasm module costing ~0.07 s CPU to start and 15–27 MiB of memory for the life of the process).
 * This load hook keeps the stripped JavaScript in a cache directory, keyed by the source's hash, so
 * a later run reads it back instead of stripping again; the first run fills it. A process whose
 * every `.ts` file is a cache hit never loads the stripper at all, which is why this file is
 * JavaScript (with types checked from JSDoc): loaded with `node --import` it is in place before the
 * entry file, so even that is served from the cache. Same stripping as Node's own
 * (`stripTypeScriptTypes`, mode "strip": positions and so stack traces stay as they are); an
 * edited file has another hash, so nothing stale is ever served. When the directory cannot be
 * written the hook still works, it just does not save anything.
 *
 * Also turns on V8's compile cache (`module.enableCompileCache`) in the same directory.
 * `ZGRID_STRIP_CACHE=0` turns both off.
 *
 * @example
 * ```ts
 * installStripCache();                           // before the first import of project code
 * // or, for a whole process: node --import=@zgrid/types/strip-cache/register entry.ts
 * ```
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { enableCompileCache, registerHooks, stripTypeScriptTypes } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The default cache directory: `$ZGRID_CACHE_DIR`, else `$XDG_CACHE_HOME/zgrid`, else
 * `~/.cache/zgrid`; one subdirectory per Node version.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function stripCacheDir(env = process.env) {
  const base = env.ZGRID_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "zgrid");
  return join(base, `ts-${process.version}`);
}

/** Edits leave old versions behind: past this many entries the cache is emptied (and refilled as files load). */
const MAX_ENTRIES = 4000;

/** Hooks installed in this process (one is enough; a second install returns the first one's counts). */
/** @type {{ dir: string; hits: number; misses: number } | undefined} */
let installed;

/**
 * Registers the load hook. Returns what it did (hit and miss counts), for benchmarks and tests;
 * undefined when `ZGRID_STRIP_CACHE=0` turned it off.
 * @param {string} [dir]
 * @returns {{ dir: string; hits: number; misses: number } | undefined}
 */
export function installStripCache(dir = stripCacheDir()) {
  if (process.env.ZGRID_STRIP_CACHE === "0") return undefined;
  if (installed) return installed;
  const stats = { dir, hits: 0, misses: 0 };
  installed = stats;
  let writable = true;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    writable = false;
  }
  if (writable) enableCompileCache(join(dir, "v8"));
  registerHooks({
    load(url, context, nextLoad) {
      // Node's own TypeScript handling decided the format: only ESM TypeScript files are ours.
      if (context.format !== "module-typescript" || !url.startsWith("file:")) return nextLoad(url, context);
      const source = readFileSync(fileURLToPath(url), "utf8");
      const entry = join(dir, `${createHash("sha256").update(url).update("\0").update(source).digest("hex").slice(0, 40)}.js`);
      try {
        const js = readFileSync(entry, "utf8");
        stats.hits++;
        return { format: "module", source: js, shortCircuit: true };
      } catch {
        // not cached yet
      }
      const js = stripTypeScriptTypes(source, { mode: "strip", sourceUrl: url });
      stats.misses++;
      if (writable) {
        try {
          const tmp = `${entry}.${process.pid}.tmp`;
          writeFileSync(tmp, js, { mode: 0o600 });
          renameSync(tmp, entry);
          if (stats.misses === 1) trim(dir);
        } catch {
          writable = false;
        }
      }
      return { format: "module", source: js, shortCircuit: true };
    },
  });
  return stats;
}

/** @param {string} dir */
function trim(dir) {
  const names = readdirSync(dir).filter((n) => n.endsWith(".js"));
  if (names.length <= MAX_ENTRIES) return;
  for (const n of names) rmSync(join(dir, n), { force: true });
}
