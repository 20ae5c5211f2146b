/**
 * Signs outgoing requests, batching those made in the same event-loop turn under one signature
 * (see wire/request-auth.ts). Alone, a request gets a plain signature over its own digest; under
 * load, one ECDSA signature covers up to MAX_BATCH requests. The wait is one setImmediate.
 *
 * @example
 * ```ts
 * const signer = new BatchSigner(key);
 * const auth = await signer.sign(body); // bytes to put before the body in the request frame
 * ```
 */
import type { TwinKey } from "@zgrid/types";
import { MAX_BATCH, batchDigest, encodeRequestAuth, merkleTree } from "../wire/request-auth.ts";
import { requestDigest, signRequestDigest } from "../wire/request-envelope.ts";

interface Queued {
  leaf: Uint8Array;
  resolve: (auth: Uint8Array) => void;
  reject: (error: unknown) => void;
}

export class BatchSigner {
  readonly #key: Pick<TwinKey, "privateKey">;
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(key: Pick<TwinKey, "privateKey">) {
    this.#key = key;
  }

  /** The authentication block (signature and, in a batch, inclusion proof) for a request body. */
  sign(body: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ leaf: requestDigest(body), resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** A plain signature over one body, now (for a request resent outside its session). */
  signNow(body: Uint8Array): Uint8Array {
    return encodeRequestAuth(signRequestDigest(this.#key, requestDigest(body)));
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, MAX_BATCH);
      this.#queue = this.#queue.slice(batch.length);
      try {
        if (batch.length === 1) {
          batch[0]!.resolve(encodeRequestAuth(signRequestDigest(this.#key, batch[0]!.leaf)));
          continue;
        }
        const { root, proofs } = merkleTree(batch.map((q) => q.leaf));
        const signature = signRequestDigest(this.#key, batchDigest(batch.length, root));
        batch.forEach((q, i) => q.resolve(encodeRequestAuth(signature, batch.length, i, proofs[i])));
      } catch (error) {
        for (const q of batch) q.reject(error);
      }
    }
  }
}
