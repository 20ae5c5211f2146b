export * from "./egress-address.ts";
export * from "./egress-error.ts";
export * from "./egress-fetch.ts";
export * from "./egress-policy.ts";
