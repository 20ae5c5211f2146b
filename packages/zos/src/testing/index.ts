// @zgrid/zos/testing — fixtures for tests and benches in any package (never imported by production
// code; lint refuses it there): node daemons on a dev chain, zosd processes, multi-node grids on
// an underlay, throwaway bridges. See ../../README.md "Entry points".
export * from "./node-fixture.ts";
export * from "./zosd-process.ts";
export * from "../underlay/grid-fixture.ts";
export { createTestBridge, type TestBridge } from "../hypervisor/test-fixtures.ts";
export { buildBusyboxRoot } from "../hypervisor/busybox-root.ts";
export { startZdbNode, type ZdbNode, type ZdbNodeOptions } from "./zdb-node.ts";
export { waitFor } from "./wait-for.ts";
