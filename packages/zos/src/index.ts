// @zgrid/zos public API.
export * from "./hypervisor/index.ts";
