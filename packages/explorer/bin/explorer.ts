#!/usr/bin/env node
/**
 * zgrid-explorer: runs the explorer against a chain.
 *
 *   node packages/explorer/bin/explorer.ts --rpc URL --addresses '{"token":…}' --key 0x… [--db sqlite:FILE | postgres://…] [--port 8080]
 *   node packages/explorer/bin/explorer.ts --local-grid /var/lib/zgrid [--port 8080]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { GridAddresses } from "@zgrid/chain";
import { startExplorer } from "../src/explorer.ts";
import { startExplorerTwin } from "../src/explorer-twin.ts";

const { values } = parseArgs({
  options: {
    rpc: { type: "string" }, addresses: { type: "string" }, key: { type: "string" }, db: { type: "string" },
    port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" }, confirmations: { type: "string", default: "0" },
    "local-grid": { type: "string" }, help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: zgrid-explorer (--local-grid DIR | --rpc URL --addresses JSON --key 0xKEY) [--db URL] [--port N] [--host H] [--confirmations N]");
  process.exit(0);
}
let rpcUrl = values.rpc;
let addresses: GridAddresses | undefined = values.addresses ? JSON.parse(values.addresses) as GridAddresses : undefined;
let key = values.key as `0x${string}` | undefined;
let db = values.db;
if (values["local-grid"]) {
  const info = JSON.parse(readFileSync(join(values["local-grid"], "grid.json"), "utf8")) as { rpcUrl: string; addresses: GridAddresses; adminKey: `0x${string}` };
  rpcUrl ??= info.rpcUrl;
  addresses ??= info.addresses;
  key ??= info.adminKey;
  db ??= `sqlite:${join(values["local-grid"], "explorer.db")}`;
}
if (!rpcUrl || !addresses || !key) {
  console.error("zgrid-explorer: give --local-grid DIR, or --rpc, --addresses and --key (the explorer twin's private key)");
  process.exit(2);
}
const twin = await startExplorerTwin({ rpcUrl, addresses, privateKey: key });
const explorer = await startExplorer({ db: db ?? "sqlite:explorer.db", rpcUrl, addresses, bus: twin.bus, port: Number(values.port), host: values.host, confirmations: Number(values.confirmations) });
console.log(`explorer ${explorer.url} (twin ${twin.twinId}, API ${explorer.url}/api/v1/openapi.json, metrics ${explorer.url}/metrics)`);
for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => void explorer.stop().then(() => twin.bus.stop()).then(() => process.exit(0)));
