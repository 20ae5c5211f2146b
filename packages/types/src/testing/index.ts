// @zgrid/types/testing — sample deployments for tests in every package (never imported by
// production code; lint refuses it there). See ../../README.md.
export * from "./sample-deployment.ts";
export * from "./arbitrary-deployment.ts";
export * from "./invalid-mutations.ts";
