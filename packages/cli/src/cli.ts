/**
 * The `zgrid` command: nouns and verbs (kubectl style), `--json` everywhere, progress on stderr,
 * results on stdout, exit codes from the error (see output.ts / README).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["node", "zgrid", "vm", "ls", "--json"]);
 * ```
 */
import { Command, CommanderError, Help } from "commander";
import { moduleFor, nounOf, NOUN_MODULES } from "./command-registry.ts";
import { defaultDataDir, type GlobalOptions } from "./context.ts";
import { createOutput, exitCodeOf, reportError, type Output } from "./output.ts";

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command("zgrid")
    .description("zgrid: run VMs on a grid of Zero-OS nodes; `zgrid up` starts a local one")
    .option("--json", "machine-readable output on stdout", false)
    .option("--data-dir <dir>", "local grid data dir (env ZGRID_DATA_DIR)", defaultDataDir())
    .option("--grid <file>", "connect to another grid: JSON with rpcUrl and addresses; key from ZGRID_MNEMONIC")
    .option("-q, --quiet", "no progress output", false)
    .exitOverride()
    .showSuggestionAfterError();
  const ctx = (): { opts: GlobalOptions; io: Output } => {
    const g = program.opts<{ json: boolean; dataDir: string; grid?: string; quiet: boolean }>();
    const opts: GlobalOptions = { json: g.json, dataDir: g.dataDir, quiet: g.quiet, ...(g.grid ? { grid: g.grid } : {}) };
    return { opts, io: createOutput({ json: g.json, quiet: g.quiet }) };
  };
  // Only the noun in use is loaded (its file may register a few top-level commands); the others
  // are listed from the registry's table so `--help` and "did you mean" still know them all.
  const used = moduleFor(nounOf(argv));
  const terms = new Map<Command, string>();
  for (const m of NOUN_MODULES) {
    if (m === used) {
      (await m.load())(program, ctx);
      continue;
    }
    for (const [name, help] of Object.entries(m.nouns)) {
      const placeholder = program.command(name).description(help.description).allowUnknownOption().allowExcessArguments().helpOption(false)
        .action(() => {
          throw new Error(`internal: the command line was read as '${nounOf(argv) ?? ""}', not '${name}'; please report it`);
        });
      terms.set(placeholder, help.term);
    }
  }
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command) {
      return terms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    await reportError(e, program.opts<{ json?: boolean }>().json ?? false);
    return exitCodeOf(e);
  }
}
