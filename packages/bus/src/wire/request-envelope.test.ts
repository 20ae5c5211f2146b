import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bytesToHex, recoverAddress, signDigest } from "@zgrid/types";
import { testTwinKey } from "../testing/test-twins.ts";
import { parseEnvelope, requestDigest, signBody, signRequest, verifyRequestSignature, type RequestEnvelope } from "./request-envelope.ts";

const env: RequestEnvelope = { uid: "0123456789abcdef", timestamp: 1_700_000_000_000, expiration: 1_700_000_010_000, source: 1, destination: 2, command: "zos.deployment.get", payload: { contract_id: 7 } };

describe("request envelope", () => {
  const key = testTwinKey(1);

  test("the signature is @zgrid/types' r||s||v form: recoverAddress gives the sender's account", () => {
    const { body, signature } = signRequest(key, env);
    assert.equal(signature.length, 65);
    assert.equal(recoverAddress(requestDigest(body), `0x${bytesToHex(signature)}`), key.address);
    // And a signature made by @zgrid/types verifies here.
    const theirs = signDigest(key, requestDigest(body));
    assert.ok(verifyRequestSignature(body, Buffer.from(theirs.slice(2), "hex"), key.publicKey));
  });

  test("tampered bytes, another key, high-s and short signatures fail", () => {
    const { body, signature } = signRequest(key, env);
    assert.ok(verifyRequestSignature(body, signature, key.publicKey));
    const tampered = Uint8Array.from(body);
    tampered[tampered.length - 3]! ^= 1;
    assert.equal(verifyRequestSignature(tampered, signature, key.publicKey), false);
    assert.equal(verifyRequestSignature(body, signature, testTwinKey(2).publicKey), false);
    assert.equal(verifyRequestSignature(body, signature.subarray(0, 64), key.publicKey), false);
    // s' = n - s is the malleated twin of a valid signature: refused.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${bytesToHex(signature.subarray(32, 64))}`);
    const high = Uint8Array.from(signature);
    high.set(Buffer.from((n - s).toString(16).padStart(64, "0"), "hex"), 32);
    assert.equal(verifyRequestSignature(body, high, key.publicKey), false);
    assert.equal(verifyRequestSignature(body, signBody(key, body), key.publicKey), true);
  });

  test("parseEnvelope accepts a valid envelope and names what is wrong otherwise", () => {
    const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    assert.deepEqual(parseEnvelope(encode(env)), env);
    assert.match(parseEnvelope(Uint8Array.from([0xff, 0xfe])) as string, /JSON/);
    assert.match(parseEnvelope(encode([1])) as string, /object/);
    assert.match(parseEnvelope(encode({ ...env, uid: 5 })) as string, /uid/);
    assert.match(parseEnvelope(encode({ ...env, timestamp: -1 })) as string, /timestamp/);
    assert.match(parseEnvelope(encode({ ...env, source: 1.5 })) as string, /source/);
    assert.match(parseEnvelope(encode({ ...env, command: "" })) as string, /command/);
  });
});
