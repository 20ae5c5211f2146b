#!/usr/bin/env node
/**
 * The local grid host process (started detached by `zgrid up`; stopped by `zgrid down`).
 *   node packages/cli/bin/zgrid-local-grid.ts --data-dir DIR [--nodes 2] [--vm-nodes 0] [--accel auto|tcg|kvm] [--node-memory GiB] [--underlay] [--bmc]
 */
import { parseArgs } from "node:util";
import { runLocalGridHost } from "../src/local-grid/local-grid-host.ts";

const { values } = parseArgs({ options: { "data-dir": { type: "string" }, nodes: { type: "string", default: "2" }, "vm-nodes": { type: "string", default: "0" }, accel: { type: "string", default: "auto" }, "node-memory": { type: "string" }, underlay: { type: "boolean", default: false }, bmc: { type: "boolean", default: false } } });
if (!values["data-dir"]) {
  process.stderr.write("usage: zgrid-local-grid.ts --data-dir DIR [--nodes 2]\n");
  process.exit(2);
}
try {
  await runLocalGridHost({ dataDir: values["data-dir"], nodes: Number(values.nodes), vmNodes: Number(values["vm-nodes"]), accel: values.accel as "auto" | "tcg" | "kvm", ...(values["node-memory"] ? { nodeMemoryGiB: Number(values["node-memory"]) } : {}), underlay: values.underlay, bmc: values.bmc });
  process.exit(0);
} catch {
  process.exit(1);
}
