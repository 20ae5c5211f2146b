// `node --import=@zgrid/types/strip-cache/register entry.ts` (how zosd runs): once the cache holds
// a process's sources, Node's TypeScript stripper (amaro, ~25 MiB resident) is never loaded.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const REGISTER = import.meta.resolve("@zgrid/types/strip-cache/register");

test("with the register hook a warm cache serves every .ts file, the entry included: the TypeScript stripper is never loaded", (t) => {
  const work = mkdtempSync(join(tmpdir(), "zgrid-strip-register-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(work, "dep.ts"), "export const n: number = 2;\n");
  writeFileSync(join(work, "main.ts"), `import { n } from "./dep.ts";\nconst stripper: string = process.moduleLoadList.some((m) => /amaro/.test(m)) ? "loaded" : "not loaded";\nconsole.log(\`n=\${n} stripper \${stripper}\`);\n`);
  const run = (env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", `--import=${REGISTER}`, join(work, "main.ts")], { encoding: "utf8", env: { ...process.env, ZGRID_CACHE_DIR: join(work, "cache"), ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(run(), "n=2 stripper loaded", "the first run strips (and fills the cache)");
  assert.equal(run(), "n=2 stripper not loaded", "the second run reads everything back");
  assert.equal(run({ ZGRID_STRIP_CACHE: "0" }), "n=2 stripper loaded", "ZGRID_STRIP_CACHE=0 turns it off");
  writeFileSync(join(work, "dep.ts"), "export const n: number = 3;\n");
  assert.equal(run(), "n=3 stripper loaded", "an edited file is stripped again, never served stale");
});
