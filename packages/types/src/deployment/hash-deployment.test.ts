// The hash is pinned by test vectors kept in the repo: a change to the encoding fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { bytesToHex } from "@noble/hashes/utils.js";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import { deploymentHashHex, encodeDeployment } from "./hash-deployment.ts";
import { parseDeployment } from "./parse-deployment.ts";

interface Vector { name: string; deployment: unknown; hash: string; encoding?: string }
const file = JSON.parse(readFileSync(new URL("../../test-vectors/deployment-hash.json", import.meta.url), "utf8")) as { vectors: Vector[] };

describe("deployment hash", () => {
  test("has vectors", () => assert.ok(file.vectors.length >= 5));
  for (const v of file.vectors) {
    test(`vector: ${v.name}`, () => {
      const d = parseDeployment(v.deployment);
      assert.equal(deploymentHashHex(d), v.hash);
      if (v.encoding) assert.equal(bytesToHex(encodeDeployment(d)), v.encoding);
    });
  }

  test("excludes contract_id, signatures and results", () => {
    const json = sampleDeploymentJson();
    const h = deploymentHashHex(parseDeployment(json));
    json.contract_id = 42;
    (json.signature_requirement as { signatures: unknown[] }).signatures = [{ twin_id: 7, signature: "ab".repeat(65), signature_type: "secp256k1" }];
    (json.workloads as Array<Record<string, unknown>>)[0]!.result = { created: 1, state: "ok", message: "", data: { x: 1 } };
    assert.equal(deploymentHashHex(parseDeployment(json)), h);
  });

  test("every other field changes the hash", () => {
    const h0 = deploymentHashHex(parseDeployment(sampleDeploymentJson()));
    const mutations: Array<(d: any) => void> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      (d) => { d.version = 1; d.workloads[0].version = 0; },
      (d) => { d.metadata += "x"; },
      (d) => { d.description += "x"; },
      (d) => { d.expiration = 1; },
      (d) => { d.signature_requirement.weight_required = 1; d.signature_requirement.requests[0].weight = 2; },
      (d) => { d.signature_requirement.requests[0].required = true; },
      (d) => { d.signature_requirement.signature_style = "x"; },
      (d) => { d.workloads[1].data.size += 1; },
      (d) => { d.workloads[1].description = "x"; },
      (d) => { d.workloads[3].data.env.A = "1"; },
      (d) => { d.workloads[3].data.compute_capacity.memory += 1; },
      (d) => { d.workloads.reverse(); },
      (d) => { d.workloads.pop(); },
      (d) => { d.workloads[5].data.password = "other"; },
    ];
    const seen = new Set([h0]);
    for (const m of mutations) {
      const json = sampleDeploymentJson();
      m(json);
      const h = deploymentHashHex(parseDeployment(json));
      assert.ok(!seen.has(h), `mutation ${m.toString()} did not change the hash`);
      seen.add(h);
    }
  });

  test("length prefixes prevent concatenation collisions", () => {
    const a = sampleDeploymentJson();
    const b = sampleDeploymentJson();
    a.metadata = "ab";
    a.description = "c";
    b.metadata = "a";
    b.description = "bc";
    assert.notEqual(deploymentHashHex(parseDeployment(a)), deploymentHashHex(parseDeployment(b)));
  });
});
