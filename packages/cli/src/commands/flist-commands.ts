/**
 * `zgrid flist …`: the flist tool of @zgrid/flist (pack, convert, push, inspect, verify, sign, ls …),
 * run as is so its options and output stay one thing. `sign`, `push` and `convert --sign` use your
 * twin key from the local grid's config when ZGRID_MNEMONIC / ZGRID_PRIVATE_KEY are not set: it
 * reaches the tool through its environment, never on a command line or in output.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { sdk, type Ctx } from "../context.ts";

const FLIST_BIN = fileURLToPath(new URL("../../../flist/bin/flist.ts", import.meta.url));

export function registerFlistCommands(program: Command, ctx: Ctx): void {
  program.command("flist").description("flists: pack, convert, push, inspect, verify, sign, ls, … (`zgrid flist --help`)")
    .allowUnknownOption().helpOption(false).argument("[args...]")
    .action(async (args: string[]) => {
      const env = { ...process.env };
      if (!env.ZGRID_MNEMONIC && !env.ZGRID_PRIVATE_KEY && ["sign", "push", "convert", "hub"].includes(args[0] ?? "")) {
        const { readLocalGrid } = await sdk();
        try {
          env.ZGRID_PRIVATE_KEY = readLocalGrid(ctx().opts.dataDir).user.privateKey;
        } catch {
          // no local grid: the tool says which key it needs
        }
      }
      const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", FLIST_BIN, ...args], { stdio: "inherit", env });
      process.exitCode = r.status ?? 1;
    });
}
