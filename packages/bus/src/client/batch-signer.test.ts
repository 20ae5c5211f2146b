import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bytesToHex, recoverAddress } from "@zgrid/types";
import { testTwinKey } from "../testing/test-twins.ts";
import { batchDigest, decodeRequestAuth, rootFromProof, type RequestAuth } from "../wire/request-auth.ts";
import { requestDigest } from "../wire/request-envelope.ts";
import { BatchSigner } from "./batch-signer.ts";

describe("BatchSigner", () => {
  const key = testTwinKey(1);
  const signer = new BatchSigner(key);
  const bodies = Array.from({ length: 10 }, (_, i) => new TextEncoder().encode(`{"n":${i}}`));
  const decode = (auth: Uint8Array, body: Uint8Array): RequestAuth => decodeRequestAuth(Buffer.concat([auth, body])) as RequestAuth;

  test("requests signed in the same turn share one signature, each with its own proof", async () => {
    const auths = await Promise.all(bodies.map((b) => signer.sign(b)));
    const decoded = auths.map((a, i) => decode(a, bodies[i]!));
    assert.equal(new Set(decoded.map((d) => bytesToHex(d.signature))).size, 1);
    decoded.forEach((d, i) => {
      assert.equal(d.batchSize, 10);
      assert.equal(d.index, i);
      const root = rootFromProof(requestDigest(bodies[i]!), d.batchSize, d.index, d.siblings)!;
      assert.equal(recoverAddress(batchDigest(10, root), `0x${bytesToHex(d.signature)}`), key.address);
    });
  });

  test("a request alone gets a plain signature over its own digest", async () => {
    const auth = decode(await signer.sign(bodies[0]!), bodies[0]!);
    assert.deepEqual([auth.batchSize, auth.siblings.length], [1, 0]);
    assert.equal(recoverAddress(requestDigest(bodies[0]!), `0x${bytesToHex(auth.signature)}`), key.address);
  });
});
