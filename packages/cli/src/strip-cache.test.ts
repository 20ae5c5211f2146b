import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const CACHE_MODULE = pathToFileURL(join(import.meta.dirname, "strip-cache.ts")).href;

/** Loads `file` in a fresh node with the cache in `dir`; prints the cache's hit/miss counts and the module's output. */
function run(dir: string, file: string): { out: string; stats: { hits: number; misses: number } } {
  const script = `const { installStripCache } = await import(${JSON.stringify(CACHE_MODULE)});
const stats = installStripCache(${JSON.stringify(dir)});
await import(${JSON.stringify(pathToFileURL(file).href)});
console.log("STATS " + JSON.stringify(stats));`;
  const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const m = /STATS (.*)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return { out: r.stdout.replace(/STATS .*\n/, ""), stats: JSON.parse(m[1]!) as { hits: number; misses: number } };
}

test("stripped sources are cached by content: a second run reads them back, an edited file is stripped again, stack lines stay right", (t) => {
  const work = mkdtempSync(join(tmpdir(), "zgrid-strip-cache-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const cache = join(work, "cache");
  const dep = join(work, "dep.ts");
  const main = join(work, "main.ts");
  writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(dep, "export const n: number = 1;\n");
  writeFileSync(main, `import { n } from "./dep.ts";\ninterface A { x: number }\nconst a: A = { x: n };\nconsole.log("x=" + a.x + " line=" + new Error().stack!.split("\\n")[1]!.match(/main\\.ts:(\\d+)/)![1]);\n`);

  const first = run(cache, main);
  assert.equal(first.out.trim(), "x=1 line=4", "types stripped in place: line numbers unchanged");
  assert.deepEqual({ hits: first.stats.hits, misses: first.stats.misses }, { hits: 0, misses: 2 });
  assert.equal(readdirSync(cache).filter((n) => n.endsWith(".js")).length, 2);

  const second = run(cache, main);
  assert.equal(second.out.trim(), "x=1 line=4");
  assert.deepEqual({ hits: second.stats.hits, misses: second.stats.misses }, { hits: 2, misses: 0 });

  writeFileSync(dep, "export const n: number = 2;\n");
  const edited = run(cache, main);
  assert.equal(edited.out.trim(), "x=2 line=4", "an edited file is never served from the cache");
  assert.deepEqual({ hits: edited.stats.hits, misses: edited.stats.misses }, { hits: 1, misses: 1 });

  // a cache that cannot be written: still runs, strips every time
  writeFileSync(join(work, "blocked"), "");
  const blocked = run(join(work, "blocked", "cache"), main);
  assert.equal(blocked.out.trim(), "x=2 line=4");
  assert.equal(blocked.stats.misses, 2);
});
