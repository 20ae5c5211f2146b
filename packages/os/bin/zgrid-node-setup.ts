#!/usr/bin/env node
// zgrid-node-setup --root DIR: run by the release's entry (image/node-entry.sh) before it chroots
// into the node's system root DIR: writes zosd's and the upgrader's configs there from the boot's
// ZGRID_* env, then waits until the node account is funded. Console lines start `zgrid-node:`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { BaseError } from "@zgrid/types";
import { NODE_PATHS, nodeConfigFromEnv } from "../src/node/node-config.ts";
import { waitForGas } from "../src/node/wait-for-gas.ts";

const say = (l: string) => void process.stdout.write(`zgrid-node: ${l}\n`);
const { values } = parseArgs({ options: { root: { type: "string" }, release: { type: "string" } } });
try {
  if (!values.root || !values.release) throw new BaseError("usage: zgrid-node-setup --root DIR --release DIR");
  const version = readFileSync(join(values.release, "RELEASE"), "utf8").trim();
  const c = nodeConfigFromEnv(process.env, version);
  for (const [path, body] of [[NODE_PATHS.zosConfig, c.zos], [NODE_PATHS.upgraderConfig, c.upgrader]] as const) {
    const file = join(values.root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  }
  mkdirSync(join(values.root, NODE_PATHS.data, "zos"), { recursive: true });
  say(`release ${version}: farm ${c.zos.farmId}, chain ${c.rpcUrl}, configs written`);
  const balance = await waitForGas({ rpcUrl: c.rpcUrl, account: c.account, say });
  say(`account ${c.account} funded (${balance} wei)`);
} catch (e) {
  const err = e instanceof BaseError ? e : undefined;
  say(`FATAL ${err?.code ?? "INTERNAL"}: ${err ? err.shortMessage : (e as Error).message}`);
  if (err?.hint) say(`  hint: ${err.hint}`);
  process.exit(1);
}
