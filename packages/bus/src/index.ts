// @zgrid/bus — the peer-to-peer message bus between twins. See README.md.
export * from "./create-bus.ts";
export * from "./directory/twin-directory.ts";
export * from "./directory/static-twin-directory.ts";
export * from "./directory/twin-cache.ts";
export * from "./errors/bus-errors.ts";
export * from "./identity/peer-identity.ts";
export * from "./metrics/bus-metrics.ts";
export * from "./metrics/prometheus-text.ts";
export * from "./node/create-peer-node.ts";
export * from "./server/bus-limits.ts";
export type { BusHandler, HandlerContext } from "./server/inbound-session.ts";
export type { RateLimit } from "./server/twin-rate-limiter.ts";
export { BUS_PROTOCOL } from "./wire/protocol.ts";
export { FRAME_KIND, encodeFrame, FrameDecoder } from "./wire/frame-codec.ts";
export { signRequest, signBody, signRequestDigest, requestDigest, verifyRequestSignature, verifyRequestDigest, parseEnvelope, type RequestEnvelope } from "./wire/request-envelope.ts";
export { MAX_BATCH, batchDigest, decodeRequestAuth, encodeRequestAuth, merkleTree, rootFromProof, type RequestAuth } from "./wire/request-auth.ts";
export { BatchSigner } from "./client/batch-signer.ts";
