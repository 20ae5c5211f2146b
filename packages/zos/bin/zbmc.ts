#!/usr/bin/env node
// zbmc — the local grid's SIMULATED baseboard management controller of one node (src/power/bmc.ts).
//   zbmc --nic eth0 --state DIR [--on] [--restart] [--port 9] -- <zosd command…>
// --restart: zosd exiting other than by a power-off is restarted (the node's init), not "machine off".
// Run it inside the node host (nsenter --net=/run/netns/zh-<name>). Prints JSON event lines
// ({"bmc":"listening"|"wake"|"on"|"off",…}) and forwards zosd's own stdout lines. SIGTERM: stops zosd, exits.
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { startBmc } from "../src/power/bmc.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { nic: { type: "string", default: "eth0" }, state: { type: "string" }, on: { type: "boolean" }, restart: { type: "boolean" }, port: { type: "string" } } });
if (!values.state || positionals.length === 0) {
  process.stderr.write("usage: zbmc --nic eth0 --state DIR [--on] [--restart] [--port 9] -- <zosd command…>\n");
  process.exit(2);
}
mkdirSync(values.state, { recursive: true });
const [cmd, ...args] = positionals as [string, ...string[]];
try {
  const bmc = await startBmc({ nic: values.nic, stateDir: values.state, command: [cmd, args], on: values.on ?? false, restart: values.restart ?? false, ...(values.port ? { port: Number(values.port) } : {}) });
  const stop = () => void bmc.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} catch (e) {
  process.stderr.write(`zbmc: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
