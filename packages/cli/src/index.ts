// @zgrid/cli: the `zgrid` command (bin/zgrid.ts) and the local grid, usable from code too.
export { runCli } from "./cli.ts";
export { upLocalGrid, downLocalGrid } from "./local-grid/local-grid.ts";
export { runLocalGridHost, BUSYBOX_ENTRYPOINT } from "./local-grid/local-grid-host.ts";
