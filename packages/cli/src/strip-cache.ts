/**
 * A cache of type-stripped sources for the `zgrid` command. Node strips the types of every `.ts`
 * file it loads, each time (`vm ls` loads ~125 files, ~0.7 MB of TypeScript: a third of its start-up
 * CPU). This load hook keeps the stripped JavaScript in a cache directory, keyed by the source's
 * hash, so a later run reads it back instead of stripping again; the first run fills it. Same
 * stripping as Node's own (`stripTypeScriptTypes`, mode "strip": positions and so stack traces
 * stay as they are); an edited file has another hash, so nothing stale is ever served. When the
 * directory cannot be written the hook still works, it just does not save anything.
 *
 * Also turns on V8's compile cache (`module.enableCompileCache`) in the same directory.
 *
 * @example
 * ```ts
 * installStripCache();                           // before the first import of project code
 * const { runCli } = await import("../src/cli.ts");
 * ```
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { enableCompileCache, registerHooks, stripTypeScriptTypes } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The default cache directory: `$ZGRID_CACHE_DIR`, else `$XDG_CACHE_HOME/zgrid`, else `~/.cache/zgrid`; one subdirectory per Node version. */
export function stripCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.ZGRID_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "zgrid");
  return join(base, `ts-${process.version}`);
}

/** Edits leave old versions behind: past this many entries the cache is emptied (and refilled as files load). */
const MAX_ENTRIES = 4000;

/**
 * Registers the load hook. Returns what it did, for benchmarks and tests. `ZGRID_STRIP_CACHE=0`
 * turns it off.
 */
export function installStripCache(dir = stripCacheDir()): { dir: string; hits: number; misses: number } | undefined {
  if (process.env.ZGRID_STRIP_CACHE === "0") return undefined;
  const stats = { dir, hits: 0, misses: 0 };
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

function trim(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith(".js"));
  if (names.length <= MAX_ENTRIES) return;
  for (const n of names) rmSync(join(dir, n), { force: true });
}
