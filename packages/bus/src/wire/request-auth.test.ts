import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { MAX_BATCH, decodeRequestAuth, encodeRequestAuth, merkleTree, rootFromProof } from "./request-auth.ts";

describe("request auth: batch signatures", () => {
  test("every leaf's proof leads to the root, for every batch size up to 40 and the maximum", () => {
    for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), MAX_BATCH]) {
      const leaves = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
      const { root, proofs } = merkleTree(leaves);
      assert.ok(proofs.every((p) => p.length <= 8));
      leaves.forEach((leaf, i) => assert.deepEqual(rootFromProof(leaf, n, i, proofs[i]!), root, `n=${n} i=${i}`));
      if (n > 1) {
        assert.notDeepEqual(rootFromProof(leaves[0]!, n, 1, proofs[0]!), root);
        assert.notDeepEqual(rootFromProof(leaves[1]!, n, 0, proofs[0]!), root);
        assert.equal(rootFromProof(leaves[0]!, n, 0, [...proofs[0]!, new Uint8Array(32)]), undefined);
      }
    }
    assert.equal(rootFromProof(new Uint8Array(32), 3, 3, []), undefined);
  });

  test("encode/decode round trip and malformed headers", () => {
    const sig = new Uint8Array(randomBytes(65));
    const siblings = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    const body = new TextEncoder().encode("{}");
    const decoded = decodeRequestAuth(Buffer.concat([encodeRequestAuth(sig, 4, 3, siblings), body]));
    assert.ok(typeof decoded !== "string");
    assert.deepEqual([decoded.batchSize, decoded.index, decoded.siblings.map((s) => s[0]), Buffer.from(decoded.body).toString()], [4, 3, [1, 2], "{}"]);
    assert.match(decodeRequestAuth(new Uint8Array(10)) as string, /short/);
    assert.match(decodeRequestAuth(Buffer.concat([encodeRequestAuth(sig, 0, 0), body])) as string, /batch/);
    assert.match(decodeRequestAuth(Buffer.concat([encodeRequestAuth(sig, 2, 2), body])) as string, /batch/);
    assert.match(decodeRequestAuth(encodeRequestAuth(sig, 2, 1, siblings)) as string, /short/);
  });
});
