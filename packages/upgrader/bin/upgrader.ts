#!/usr/bin/env node
// zgrid-upgrader — the first process of a node: owns zosd, follows the release approved on chain.
//   zgrid-upgrader --config /etc/zgrid-upgrader.json
// Config: see packages/upgrader/README.md. SIGTERM/SIGINT: stops zosd (VMs keep running) and exits.
// Prints one JSON line {"ready":true,"version":…,"nodeId":…,"twinId":…,"zosdPid":…} once zosd runs.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BaseError } from "@zgrid/types";
import { parseUpgraderConfig } from "../src/upgrader-config.ts";
import { startUpgrader } from "../src/upgrader.ts";

const { values } = parseArgs({ options: { config: { type: "string" }, help: { type: "boolean" } } });
if (values.help || !values.config) {
  process.stdout.write("usage: zgrid-upgrader --config FILE\n");
  process.exit(values.help ? 0 : 2);
}
try {
  const u = await startUpgrader(parseUpgraderConfig(JSON.parse(readFileSync(values.config, "utf8"))));
  process.stdout.write(`${JSON.stringify({ ready: true, version: u.current(), nodeId: u.nodeId(), twinId: u.twinId(), zosdPid: u.zosdPid() })}\n`);
  for (const ev of ["upgraded", "rolled-back", "refused"]) u.on(ev, (r: unknown) => process.stdout.write(`${JSON.stringify({ event: ev, ...(r as object) })}\n`));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await u.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
} catch (e) {
  const msg = e instanceof BaseError ? `${e.shortMessage}${e.hint ? `\n  hint: ${e.hint}` : ""}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`zgrid-upgrader: ${msg}\n`);
  process.stdout.write(`${JSON.stringify({ ready: false, error: msg })}\n`);
  process.exit(1);
}
