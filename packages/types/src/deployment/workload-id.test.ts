import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatWorkloadId, parseWorkloadId, workloadId } from "./workload-id.ts";

describe("workload ids", () => {
  test("format and parse are inverse", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.stringMatching(/^[a-zA-Z0-9_]{1,36}$/), (twinId, contractId, name) => {
      assert.deepEqual(parseWorkloadId(formatWorkloadId({ twinId, contractId, name })), { twinId, contractId, name });
    }));
    assert.equal(workloadId(7, 12, "web"), "7-12-web");
  });

  test("anything else is not a workload id", () => {
    for (const bad of ["", "7", "7-12", "7-12-", "a-12-web", "7-b-web", "7-12-we-b", "-12-web", "7--web", "7-12-web!", "99999999999999999-1-x"]) {
      assert.equal(parseWorkloadId(bad), undefined, bad);
    }
  });
});
