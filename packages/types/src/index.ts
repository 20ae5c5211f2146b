// @zgrid/types — the wire format every zgrid package speaks. See README.md.
export * from "./errors/base.ts";
export * from "./errors/key-error.ts";
export * from "./keys/twin-key.ts";
