#!/usr/bin/env node
/** The zgrid command line. `zgrid --help`. */
// node:sqlite (loaded through @zgrid/zos) warns that it is experimental: not news to a CLI user.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).includes("SQLite")) return;
  (emitWarning as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
// Type-stripped sources are cached between runs (src/strip-cache.ts): start-up is mostly module loading.
const { installStripCache } = await import("../src/strip-cache.ts");
installStripCache();
const { runCli } = await import("../src/cli.ts");
const code = await runCli(process.argv);
// libp2p and viem may keep handles open; a command is done when it returned.
process.exit(code);
