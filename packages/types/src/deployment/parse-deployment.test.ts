// Table-driven tests: every validation rule, each by a mutation of a valid sample deployment that
// must be refused with a ValidationError naming the workload and the field.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../errors/validation-error.ts";
import { INVALID_MUTATIONS as cases, type Json } from "../testing/invalid-mutations.ts";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import { parseDeployment } from "./parse-deployment.ts";

const vm = (d: Json) => d.workloads.find((w: Json) => w.name === "vm").data;

describe("parseDeployment", () => {
  test("accepts the valid sample and fills defaults", () => {
    const d = parseDeployment(sampleDeploymentJson());
    assert.equal(d.workloads.length, 8);
    const json = sampleDeploymentJson();
    delete (json.workloads as Json[])[2]!.data.v6;
    const d2 = parseDeployment(json);
    const pub = d2.workloads.find((w) => w.name === "pub");
    assert.deepEqual(pub?.data, { v4: true, v6: false });
  });

  test("accepts a network shared from another deployment when the node says it exists", () => {
    const json = sampleDeploymentJson();
    vm(json).network.interfaces[0].network = "shared";
    assert.throws(() => parseDeployment(json), ValidationError);
    const d = parseDeployment(json, { externalNetworks: ["shared"] });
    assert.equal(d.workloads.length, 8);
  });

  for (const c of cases) {
    test(`refuses: ${c.name}`, () => {
      const json = sampleDeploymentJson() as Json;
      c.mutate(json);
      let error: unknown;
      try {
        parseDeployment(json);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
      const hit = error.issues.find((i) => (c.field instanceof RegExp ? c.field.test(i.field) : i.field === c.field) && i.workload === c.workload);
      assert.ok(hit, `no issue on ${c.workload ?? "deployment"}.${String(c.field)}; got ${error.message}`);
      assert.ok(hit.expected.length > 3, "says what is expected");
      assert.match(error.message, /expected/);
    });
  }

  test("the message names workload, field, value and expectation", () => {
    const json = sampleDeploymentJson() as Json;
    vm(json).compute_capacity.cpu = 0;
    assert.throws(() => parseDeployment(json), {
      message: /^workload 'vm' \(zmachine\): data\.compute_capacity\.cpu = 0: expected an integer from 1 to 256/,
    });
  });

  test("non-object inputs are refused with a typed error", () => {
    for (const input of [null, undefined, 42, "deployment", [], true, { workloads: null }]) {
      assert.throws(() => parseDeployment(input), ValidationError);
    }
  });
});
