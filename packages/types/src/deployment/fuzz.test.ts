// Property/fuzz test: more than 10,000 random and mutated deployments through parseDeployment.
// Nothing but ValidationError is ever thrown; known-invalid mutations are always refused; whatever
// is accepted satisfies the invariants an independent oracle checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ValidationError } from "../errors/validation-error.ts";
import { DELETE, jsonPaths, setAt, validDeployment } from "../testing/arbitrary-deployment.ts";
import { INVALID_MUTATIONS, type Json } from "../testing/invalid-mutations.ts";
import { isIPv4 } from "../net/ip.ts";
import { minRootSize } from "../workloads/zmachine.ts";
import type { Deployment } from "./deployment.ts";
import { deploymentHashHex } from "./hash-deployment.ts";
import { parseDeployment } from "./parse-deployment.ts";

/** Parses and returns the deployment, undefined on ValidationError, and fails on anything else. */
function parseOrTyped(input: unknown): Deployment | undefined {
  try {
    return parseDeployment(input);
  } catch (e) {
    if (e instanceof ValidationError) {
      assert.ok(e.issues.length > 0 && e.message.length > 0);
      return undefined;
    }
    throw new Error(`parseDeployment threw a non-ValidationError: ${String(e)}`, { cause: e });
  }
}

/** Invariants every accepted deployment must satisfy, checked independently of the validator. */
function oracle(d: Deployment): void {
  const names = d.workloads.map((w) => w.name);
  assert.equal(new Set(names).size, names.length, "unique names");
  for (const w of d.workloads) {
    assert.match(w.name, /^[a-zA-Z0-9_]{1,36}$/);
    assert.ok(w.version <= d.version);
    if (w.type === "zmachine") {
      const { cpu, memory } = w.data.compute_capacity;
      assert.ok(Number.isInteger(cpu) && cpu >= 1, "cpu >= 1");
      assert.ok(memory >= 250 * 1024 ** 2, "memory >= 250 MiB");
      assert.ok(w.data.size === 0 || w.data.size >= minRootSize(cpu, memory), "root size");
      assert.equal(w.data.network.interfaces.length, 1);
      const nic = w.data.network.interfaces[0]!;
      assert.ok(isIPv4(nic.ip) && !nic.ip.endsWith(".1"));
      assert.ok(d.workloads.some((n) => n.name === nic.network && n.type === "network"), "network exists");
      for (const m of w.data.mounts) assert.ok(d.workloads.some((x) => x.name === m.name && (x.type === "zmount" || x.type === "volume")), "disk exists");
    }
    if (w.type === "zmount" || w.type === "volume" || w.type === "zdb") assert.ok(w.data.size >= 1024 ** 2);
  }
  assert.ok(d.twin_id >= 1);
  assert.ok(d.signature_requirement.requests.some((r) => r.twin_id === d.twin_id));
}

const mutation = (d: Json) =>
  fc.record({
    path: fc.constantFrom(...jsonPaths(d)),
    value: fc.oneof(
      fc.constant(DELETE),
      fc.anything({ maxDepth: 2 }),
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(0, -1, 1.5, 2 ** 53, NaN, Infinity, "", " ", "0", null, true, [], {}, "10.20.2.1", "127.0.0.1", "a b", "x".repeat(5000)),
    ),
  });

describe("fuzz: parse+validate", () => {
  test("2,000 random valid deployments are accepted, hash deterministically and survive JSON", () => {
    fc.assert(fc.property(validDeployment, (json) => {
      const d = parseOrTyped(json);
      assert.ok(d, "valid deployment refused");
      oracle(d);
      const again = parseDeployment(JSON.parse(JSON.stringify(d)));
      assert.equal(deploymentHashHex(again), deploymentHashHex(d));
    }), { numRuns: 2000 });
  });

  test("3,000 known-invalid mutations of random deployments are always refused", () => {
    fc.assert(fc.property(validDeployment, fc.constantFrom(...INVALID_MUTATIONS), (generated, m) => {
      const json = structuredClone(generated);
      m.mutate(json);
      assert.equal(parseOrTyped(json), undefined, `accepted after: ${m.name}`);
    }), { numRuns: 3000 });
  });

  test("4,000 random mutations: only ValidationError, and what is accepted passes the oracle", () => {
    fc.assert(fc.property(validDeployment.chain((d) => fc.tuple(fc.constant(d), fc.array(mutation(d), { minLength: 1, maxLength: 3 }))), ([json, muts]) => {
      let input: Json = structuredClone(json);
      for (const m of muts) {
        try {
          input = setAt(input, m.path, m.value);
        } catch {
          // an earlier mutation removed the parent: skip this one
        }
      }
      const d = parseOrTyped(input);
      if (d) oracle(d);
    }), { numRuns: 4000 });
  });

  test("1,000 arbitrary values are refused with a ValidationError", () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 4, withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true }), (v) => {
      assert.equal(parseOrTyped(v), undefined);
    }), { numRuns: 1000 });
  });
});
