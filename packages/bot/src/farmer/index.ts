// The farmerbot (issue 20): a farm's agent powering idle nodes off and waking them. See ../../README.md.
export * from "./farmer-policy.ts";
export * from "./energy-model.ts";
export * from "./decide.ts";
export * from "./farmer-state.ts";
export * from "./wol-sender.ts";
export * from "./farmerbot.ts";
export * from "./farmer-bus.ts";
export * from "./run-farmerbot.ts";
export * from "./farm-status.ts";
