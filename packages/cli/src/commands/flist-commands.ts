/**
 * `zgrid flist …`: the flist tool of @zgrid/flist (pack, convert, push, inspect, verify, sign, ls …),
 * run as is so its options and output stay one thing.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

const FLIST_BIN = fileURLToPath(new URL("../../../flist/bin/flist.ts", import.meta.url));

export function registerFlistCommands(program: Command): void {
  program.command("flist").description("flists: pack, convert, push, inspect, verify, sign, ls, … (`zgrid flist --help`)")
    .allowUnknownOption().helpOption(false).argument("[args...]")
    .action((args: string[]) => {
      const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", FLIST_BIN, ...args], { stdio: "inherit" });
      process.exitCode = r.status ?? 1;
    });
}
