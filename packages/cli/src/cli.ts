/**
 * The `zgrid` command: nouns and verbs (kubectl style), `--json` everywhere, progress on stderr,
 * results on stdout, exit codes from the error (see output.ts / README).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["node", "zgrid", "vm", "ls", "--json"]);
 * ```
 */
import { Command, CommanderError } from "commander";
import { registerApplyCommands } from "./commands/apply-commands.ts";
import { registerBootCommands } from "./commands/boot-commands.ts";
import { registerBotCommands } from "./commands/bot-commands.ts";
import { registerFlistCommands } from "./commands/flist-commands.ts";
import { registerGridCommands } from "./commands/grid-commands.ts";
import { registerK8sCommands } from "./commands/k8s-commands.ts";
import { registerDnsCommands } from "./commands/dns-commands.ts";
import { registerMetricsCommands } from "./commands/metrics-commands.ts";
import { registerImageCommands } from "./commands/image-commands.ts";
import { registerContractCommands } from "./commands/contract-commands.ts";
import { registerFarmCommands } from "./commands/farm-commands.ts";
import { registerGatewayCommands } from "./commands/gateway-commands.ts";
import { registerNetworkCommands } from "./commands/network-commands.ts";
import { registerNodeCommands } from "./commands/node-commands.ts";
import { registerTwinCommands } from "./commands/twin-commands.ts";
import { registerVmCommands } from "./commands/vm-commands.ts";
import { registerZdbCommands } from "./commands/zdb-commands.ts";
import { registerReleaseCommands } from "./commands/release-commands.ts";
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
  registerGridCommands(program, ctx);
  registerVmCommands(program, ctx);
  registerNetworkCommands(program, ctx);
  registerContractCommands(program, ctx);
  registerNodeCommands(program, ctx);
  registerTwinCommands(program, ctx);
  registerFarmCommands(program, ctx);
  registerBootCommands(program, ctx);
  registerGatewayCommands(program, ctx);
  registerApplyCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerFlistCommands(program, ctx);
  registerZdbCommands(program, ctx);
  registerBotCommands(program, ctx);
  registerK8sCommands(program, ctx);
  registerDnsCommands(program, ctx);
  registerMetricsCommands(program, ctx);
  registerReleaseCommands(program, ctx);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    await reportError(e, program.opts<{ json?: boolean }>().json ?? false);
    return exitCodeOf(e);
  }
}
