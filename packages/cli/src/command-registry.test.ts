import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Command, Help } from "commander";
import { moduleFor, nounOf, NOUN_MODULES } from "./command-registry.ts";
import { createOutput } from "./output.ts";

const COMMANDS_DIR = join(import.meta.dirname, "commands");
const BIN = join(import.meta.dirname, "../bin/zgrid.ts");

test("the registry lists exactly the top-level commands each noun file registers, with the same help text, in order", async () => {
  const ctx = () => ({ opts: { json: false, dataDir: "/nonexistent" }, io: createOutput({ json: false }) });
  const help = new Help();
  const listed: string[] = [];
  const registered: string[] = [];
  for (const m of NOUN_MODULES) {
    const program = new Command("zgrid");
    (await m.load())(program, ctx);
    for (const [name, h] of Object.entries(m.nouns)) listed.push(`${name} | ${h.term} | ${h.description}`);
    for (const c of program.commands) registered.push(`${c.name()} | ${help.subcommandTerm(c)} | ${c.description()}`);
  }
  assert.deepEqual(listed, registered, "update NOUN_MODULES in command-registry.ts to what the noun files register");
  assert.equal(new Set(listed.map((l) => l.split(" |")[0])).size, listed.length, "a noun is listed twice");
});

test("every commands/*-commands.ts file is loaded through the registry or by another noun file", () => {
  const files = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith("-commands.ts"));
  const registry = readFileSync(join(import.meta.dirname, "command-registry.ts"), "utf8");
  const sources = files.map((f) => readFileSync(join(COMMANDS_DIR, f), "utf8")).join("\n");
  const orphans = files.filter((f) => !registry.includes(`./commands/${f}`) && !sources.includes(`./${f}`));
  assert.deepEqual(orphans, [], "add these files to NOUN_MODULES (command-registry.ts)");
});

test("nounOf: the first argument that is neither an option nor a global option's value; `help <noun>` names the noun", () => {
  const argv = (...a: string[]) => ["node", "zgrid", ...a];
  assert.equal(nounOf(argv("vm", "ls")), "vm");
  assert.equal(nounOf(argv("--json", "-q", "vm", "ls")), "vm");
  assert.equal(nounOf(argv("--data-dir", "/x/vm", "nodes", "ls")), "nodes");
  assert.equal(nounOf(argv("--data-dir=/x", "--grid", "g.json", "status")), "status");
  assert.equal(nounOf(argv("help", "gw")), "gw");
  assert.equal(nounOf(argv("help")), undefined);
  assert.equal(nounOf(argv("--help")), undefined);
  assert.equal(nounOf(argv()), undefined);
  assert.equal(nounOf(argv("--", "vm")), "vm");
  assert.equal(moduleFor("down"), moduleFor("up"), "one file registers up and down");
  assert.equal(moduleFor("vmx"), undefined);
  assert.equal(moduleFor(undefined), undefined);
  assert.equal(moduleFor("toString"), undefined, "only the table's own names");
});

/** Runs the CLI in a child that records every module file it loads. */
function runTraced(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const hook = `import { registerHooks } from "node:module";
globalThis.__loaded = [];
registerHooks({ load(url, ctx, next) { globalThis.__loaded.push(url); return next(url, ctx); } });
process.on("exit", () => process.stderr.write("\\nLOADED " + JSON.stringify(globalThis.__loaded) + "\\n"));`;
  const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--import", `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    encoding: "utf8",
    // without the strip cache: its load hook would answer before the tracing one sees the file
    env: { ...process.env, ZGRID_DATA_DIR: "/nonexistent-zgrid-data-dir", ZGRID_STRIP_CACHE: "0" },
  });
  const m = /\nLOADED (.*)\n/.exec(r.stderr);
  assert.ok(m, `no trace: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: JSON.parse(m[1]!) as string[] };
}

test("`zgrid --help` lists every noun and loads none of the noun files; `zgrid vm --help` loads only vm's", () => {
  const top = runTraced(["--help"]);
  assert.equal(top.status, 0, top.stderr);
  for (const m of NOUN_MODULES) for (const [name, h] of Object.entries(m.nouns)) assert.match(top.stdout, new RegExp(`^  ${h.term.replace(/[.[\]]/g, "\\$&")} `, "m"), `${name} missing from --help`);
  assert.deepEqual(top.loaded.filter((u) => u.includes("/commands/")), []);
  // the one exception: the stripped-source cache (@zgrid/types/strip-cache, one plain JS file, no dependencies)
  assert.deepEqual(top.loaded.filter((u) => /@zgrid|\/packages\/(?!cli\/)/.test(u) && !u.endsWith("/packages/types/src/runtime/strip-cache.js")), [], "--help loads no other zgrid package");

  const vm = runTraced(["vm", "--help"]);
  assert.equal(vm.status, 0, vm.stderr);
  assert.match(vm.stdout, /^ {2}ls +list your VMs/m);
  assert.deepEqual(vm.loaded.filter((u) => u.includes("/commands/")).map((u) => u.replace(/.*\/commands\//, "")), ["vm-commands.ts"]);

  const wrong = runTraced(["vmx"]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /unknown command 'vmx'[\s\S]*Did you mean vm\?/);
});
