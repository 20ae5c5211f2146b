#!/usr/bin/env node
/**
 * The bus agent of a local grid's data dir (`@zgrid/client/bus-agent`): keeps the twin's bus open
 * for `zgrid` read commands, which start it on demand. It exits when idle (10 min), on SIGTERM,
 * when told to stop (`zgrid down`), or when the data dir's grid changes.
 *   zgrid-bus-agent DATA_DIR
 */
const { installStripCache } = await import("../src/strip-cache.ts");
installStripCache();
const { BusAgentRunningError, runLocalBusAgent } = await import("@zgrid/client/bus-agent");
const dataDir = process.argv[2];
if (!dataDir) {
  console.error("usage: zgrid-bus-agent DATA_DIR");
  process.exit(2);
}
try {
  const agent = await runLocalBusAgent(dataDir);
  console.error(`${new Date().toISOString()} bus agent ${process.pid} serving ${dataDir}`);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(sig, () => void agent.close());
  await agent.closed;
  console.error(`${new Date().toISOString()} bus agent ${process.pid} stopped`);
  process.exit(0);
} catch (e) {
  if (e instanceof BusAgentRunningError) process.exit(0); // another one serves already
  console.error(`${new Date().toISOString()} bus agent: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
