// The generated bindings must match the Solidity sources (regenerate: node packages/chain/scripts/build-contracts.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { sourcesHash } from "../scripts/build-contracts.ts";
import { SOURCES_HASH } from "./generated/sources-hash.ts";

test("generated ABI/bytecode are current with contracts/*.sol", () => {
  assert.equal(SOURCES_HASH, sourcesHash(), "contracts changed: run `node packages/chain/scripts/build-contracts.ts`");
});
