/**
 * Reorders Kubernetes 1.20's vendor/modules.txt so Go >= 1.17 reads it with `-mod=vendor`.
 * The 1.20 file interleaves replacement-only lines (`# path => repl`) between a module's header and
 * its package lines; Go >= 1.17 takes such a line as a new (versionless) module and attributes the
 * following packages to it, then refuses the tree ("updates to go.mod needed"). Here every package
 * and `##` line goes back under the last versioned header, and replacement-only lines move to the
 * end. Nothing is added or removed (checked: same multiset of lines).
 *   node fix-modules-txt.ts vendor/modules.txt
 */
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
if (!file) throw new Error("usage: fix-modules-txt.ts vendor/modules.txt");
const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
const blocks: string[][] = [];
const replacements: string[] = [];
for (const line of lines) {
  const f = line.split(/\s+/);
  if (line.startsWith("# ") && f[2] === "=>") replacements.push(line);
  else if (line.startsWith("# ")) blocks.push([line]);
  else if (blocks.length > 0) blocks.at(-1)!.push(line);
  else throw new Error(`modules.txt: '${line}' before any module header`);
}
const out = [...blocks.flat(), ...replacements];
const key = (ls: string[]) => [...ls].sort().join("\n");
if (key(out) !== key(lines)) throw new Error("modules.txt: reordering changed the lines (bug)");
writeFileSync(file, out.join("\n") + "\n");
