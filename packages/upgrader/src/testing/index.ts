// @zgrid/upgrader/testing — fixtures for tests and benches (never imported by production code):
// a local grid whose node hosts run zosd under the upgrader, and the traffic probes an upgrade must not break.
export * from "./upgrade-grid.ts";
export * from "./traffic-probes.ts";
export * from "./rollout-releases.ts";
