// Test support of @zgrid/flist for other packages' tests: a real OCI registry.
export { startRegistry, freePort, type Registry } from "./registry.ts";
