// Signature round trip and every rejection: other key, changed field, reordered or replaced
// workload, missing required signer, too little weight, unknown twin.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SignatureError } from "../errors/signature-error.ts";
import { twinKeyFromMnemonic } from "../keys/twin-key.ts";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import type { Deployment } from "./deployment.ts";
import { parseDeployment } from "./parse-deployment.ts";
import { signDeployment, verifyDeploymentSignatures } from "./sign-deployment.ts";

const alice = twinKeyFromMnemonic("test test test test test test test test test test test junk");
const bob = twinKeyFromMnemonic("legal winner thank year wave sausage worth useful legal winner thank yellow");
const accounts: Record<number, string> = { 7: alice.address, 8: bob.address };
const lookup = (twin: number) => accounts[twin];

function resign(d: Deployment, change: (json: any) => void): Deployment { // eslint-disable-line @typescript-eslint/no-explicit-any
  // Carry the old signature over to a changed deployment, as an attacker would.
  const json = structuredClone(d) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  change(json);
  return parseDeployment(json);
}

describe("deployment signatures", () => {
  const d = parseDeployment(sampleDeploymentJson({ twinId: 7 }));

  test("round trip: signed by the twin's key verifies", async () => {
    const signed = signDeployment(d, 7, alice);
    assert.deepEqual(await verifyDeploymentSignatures(signed, lookup), { signers: [7], weight: 1 });
    // The signature survives a JSON round trip (the bus).
    const again = parseDeployment(JSON.parse(JSON.stringify(signed)));
    assert.deepEqual(await verifyDeploymentSignatures(again, lookup), { signers: [7], weight: 1 });
  });

  test("no signature: weight 0 < required", async () => {
    await assert.rejects(verifyDeploymentSignatures(d, lookup), (e) => e instanceof SignatureError && /weigh 0/.test(e.message));
  });

  test("signed by another key", async () => {
    const signed = signDeployment(d, 7, bob);
    await assert.rejects(verifyDeploymentSignatures(signed, lookup), (e) => e instanceof SignatureError && /twin 7 does not match/.test(e.message));
  });

  const tampering: Array<[string, (json: any) => void]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ["changed cpu", (j) => { j.workloads[3].data.compute_capacity.cpu = 4; }],
    ["changed flist", (j) => { j.workloads[3].data.flist = "https://evil.example/x.fl"; }],
    ["changed deployment metadata", (j) => { j.metadata = "{}"; }],
    ["reordered workloads", (j) => { j.workloads = [j.workloads[1], j.workloads[0], ...j.workloads.slice(2)]; }],
    ["replaced workload", (j) => { j.workloads[5] = { version: 0, name: "db", type: "zdb", metadata: "", description: "", data: { size: 2 ** 30, mode: "seq", password: "", public: true } }; }],
    ["removed workload", (j) => { j.workloads.splice(6, 1); }],
    ["raised weight_required", (j) => { j.signature_requirement.requests[0].weight = 2; }],
  ];
  for (const [name, change] of tampering) {
    test(`rejects a ${name} after signing`, async () => {
      const signed = signDeployment(d, 7, alice);
      const tampered = resign(signed, change);
      await assert.rejects(verifyDeploymentSignatures(tampered, lookup), SignatureError);
    });
  }

  test("contract_id may be set after signing (it is not hashed)", async () => {
    const signed = resign(signDeployment(d, 7, alice), (j) => { j.contract_id = 55; });
    await verifyDeploymentSignatures(signed, lookup);
  });

  test("malformed signature bytes are a SignatureError, not a crash", async () => {
    const signed = resign(signDeployment(d, 7, alice), (j) => { j.signature_requirement.signatures[0].signature = "ff".repeat(65); });
    await assert.rejects(verifyDeploymentSignatures(signed, lookup), SignatureError);
  });

  test("unknown twin on chain", async () => {
    const signed = signDeployment(d, 7, alice);
    await assert.rejects(verifyDeploymentSignatures(signed, () => undefined), /does not exist on chain/);
  });

  describe("multisig", () => {
    const json = sampleDeploymentJson({ twinId: 7 }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    json.signature_requirement = { requests: [{ twin_id: 7, required: false, weight: 1 }, { twin_id: 8, required: true, weight: 1 }], weight_required: 2 };
    const m = parseDeployment(json);

    test("both sign: ok", async () => {
      const signed = signDeployment(signDeployment(m, 7, alice), 8, bob);
      assert.deepEqual((await verifyDeploymentSignatures(signed, lookup)).signers.sort(), [7, 8]);
    });
    test("missing required signer", async () => {
      await assert.rejects(verifyDeploymentSignatures(signDeployment(m, 7, alice), lookup), /required signer\(s\) 8 did not sign/);
    });
    test("required signer alone does not reach the weight", async () => {
      await assert.rejects(verifyDeploymentSignatures(signDeployment(m, 8, bob), lookup), /weigh 1, the deployment requires 2/);
    });
    test("a signature by bob's key under alice's twin id is refused", async () => {
      const forged = signDeployment(signDeployment(m, 7, bob), 8, bob);
      await assert.rejects(verifyDeploymentSignatures(forged, lookup), /twin 7 does not match/);
    });
  });
});
