#!/usr/bin/env node
/**
 * Starts the zgrid dev chain: a local EVM JSON-RPC server with the contracts deployed and funded
 * test twins, and prints the addresses.
 *
 *   node packages/chain/bin/devchain.ts [--port 8545] [--host 127.0.0.1] [--state FILE] [--twins 5] [--json]
 */
import { parseArgs } from "node:util";
import { startDevChain } from "../src/devchain/start-dev-chain.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8545" },
    host: { type: "string", default: "127.0.0.1" },
    state: { type: "string" },
    twins: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write("usage: devchain.ts [--port 8545] [--host 127.0.0.1] [--state FILE] [--twins 5] [--json]\n");
  process.exit(0);
}

const chain = await startDevChain({
  port: Number(values.port), host: values.host, twins: Number(values.twins),
  ...(values.state ? { stateFile: values.state } : {}),
});
const info = {
  rpcUrl: chain.rpcUrl, chainId: chain.chainId, restored: chain.restored, addresses: chain.addresses,
  admin: { address: chain.admin.address, privateKey: chain.admin.privateKey },
  twins: chain.twins.map((t) => ({ twinId: t.twinId, address: t.address, privateKey: t.privateKey, peerId: t.peerId })),
};
if (values.json) {
  process.stdout.write(JSON.stringify(info) + "\n");
} else {
  const lines = [
    `zgrid dev chain ${chain.restored ? "(restored) " : ""}at ${info.rpcUrl} (chain id ${info.chainId})`,
    `  token       ${info.addresses.token}`,
    `  registry    ${info.addresses.registry}`,
    `  contracts   ${info.addresses.contracts}`,
    `  governance  ${info.addresses.governance}`,
    `  admin       ${info.admin.address}  key ${info.admin.privateKey}`,
    ...info.twins.map((t) => `  twin ${t.twinId}      ${t.address}  key ${t.privateKey}`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

const shutdown = () => { void chain.stop().then(() => process.exit(0)); };
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
