#!/usr/bin/env node
// zosd — the Zero-OS node daemon.
//   zosd --config /etc/zos.json          run the daemon (SIGTERM/SIGINT: stop; VMs keep running)
//   zosd --config /etc/zos.json --account  print the node's chain account (creates the seed) and exit
// Prints one JSON line `{"ready":true,…}` on stdout when serving, for supervisors and tests.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BaseError } from "@zgrid/types";
import { loadNodeIdentity } from "../src/node/node-identity.ts";
import { parseZosConfig } from "../src/daemon/zos-config.ts";
import { startZosDaemon } from "../src/daemon/zos-daemon.ts";

const { values } = parseArgs({ options: { config: { type: "string" }, account: { type: "boolean" }, help: { type: "boolean" } } });
if (values.help || !values.config) {
  process.stdout.write("usage: zosd --config FILE [--account]\n");
  process.exit(values.help ? 0 : 2);
}

try {
  const config = parseZosConfig(JSON.parse(readFileSync(values.config, "utf8")));
  if (values.account) {
    process.stdout.write(`${JSON.stringify({ account: loadNodeIdentity(config.dataDir).address })}\n`);
    process.exit(0);
  }
  const zos = await startZosDaemon(config);
  process.stdout.write(`${JSON.stringify({ ready: true, ...zos.info })}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await zos.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
} catch (e) {
  const err = e instanceof BaseError ? e.toJSON() : { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
  process.stderr.write(`zosd: ${err.message}${"hint" in err && err.hint ? `\n  hint: ${err.hint}` : ""}\n`);
  process.stdout.write(`${JSON.stringify({ ready: false, error: err })}\n`);
  process.exit(1);
}
