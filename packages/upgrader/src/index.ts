/** @zgrid/upgrader: releases (build, sign, install), the upgrader that owns zosd, rollout waves. */
export * from "./errors.ts";
export * from "./release/release-manifest.ts";
export * from "./release/build-release.ts";
export * from "./release/install-release.ts";
export * from "./release/bare-install.ts";
export * from "./waves/wave-plan.ts";
export * from "./waves/rollout-view.ts";
export * from "./runner/zosd-runner.ts";
export * from "./runner/health-gate.ts";
export * from "./runner/vm-pids.ts";
export * from "./upgrader-config.ts";
export * from "./upgrader-state.ts";
export * from "./upgrader.ts";
