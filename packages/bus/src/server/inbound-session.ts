/**
 * Serves one inbound bus stream: frames in, each request checked, run and answered on the same
 * stream with its id. Every refusal is a typed error frame (code + message), never silence; a
 * stream whose framing is broken is aborted; nothing a peer sends can throw out of here.
 *
 * Checks, in order (cheap before expensive): frame well-formed and within size; envelope parses;
 * destination is this twin; not expired, not future-dated, validity window within maxTtl; the
 * source twin exists and its account is the key of the connected peer (Noise proved it); the
 * source's rate limit; the signature (over the exact bytes, by that key); uid not seen before.
 *
 * Sessions: the first signed request that verifies on a stream binds the stream to its twin.
 * Later session requests (kind 4: the envelope without signature) on that stream are taken as
 * that twin's: Noise already authenticates every byte of the connection to the twin's key, and
 * the same checks run except the ECDSA one (README, "Sessions"). A session request on a stream
 * without a session, or naming another source, is refused.
 *
 * Strangers: the connection's InboundGuard state limits frame size, streams and buffered bytes
 * until a signed request proves the connection (server/inbound-guard.ts).
 *
 * @example
 * ```ts
 * node.handle(BUS_PROTOCOL, (stream, connection) => serveInboundStream(stream, connection, deps));
 * ```
 */
import type { Connection, Stream } from "@libp2p/interface";
import type { Logger } from "@zgrid/log";
import { Uint8ArrayList } from "uint8arraylist";
import { BaseError, bytesToHex } from "@zgrid/types/core";
import type { TwinCache } from "../directory/twin-cache.ts";
import { BUS_ERROR_CODES, errorToWire } from "../errors/bus-errors.ts";
import { accountOfPeerId, publicKeyOfPeerId } from "../identity/peer-identity.ts";
import type { BusMetrics } from "../metrics/bus-metrics.ts";
import { FRAME_KIND, FrameDecoder, encodeFrame, type DecodedFrame } from "../wire/frame-codec.ts";
import { batchDigest, decodeRequestAuth, rootFromProof, type RequestAuth } from "../wire/request-auth.ts";
import { parseEnvelope, requestDigest, verifyRequestDigest, type RequestEnvelope } from "../wire/request-envelope.ts";
import type { BusLimits } from "./bus-limits.ts";
import type { InboundGuard } from "./inbound-guard.ts";
import type { ReplayCache } from "./replay-cache.ts";
import type { TwinRateLimiter } from "./twin-rate-limiter.ts";

/** Who called a handler: verified from the signature and the connection. */
export interface HandlerContext {
  twinId: number;
  account: `0x${string}`;
  peerId: string;
  command: string;
  uid: string;
  /** The request must not take effect after this instant (unix ms). */
  expiration: number;
  /**
   * How the request was authenticated: its own signature, or the session of the stream it came
   * on (opened by a signed request of the same twin). `session` names that stream.
   */
  auth: "signature" | "session";
  session: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BusHandler = (payload: any, ctx: HandlerContext) => unknown;

export interface InboundDeps {
  twinId: number;
  twins: TwinCache;
  handlers: ReadonlyMap<string, BusHandler>;
  replay: ReplayCache;
  limiter: TwinRateLimiter;
  limits: BusLimits;
  metrics: BusMetrics;
  log: Logger;
  guard: InboundGuard;
}

/** A command every bus peer answers (with null) once the request verified: opens a session. */
export const SESSION_HELLO = "bus.hello";

type WireError = { code: string; message: string; details?: Record<string, unknown>; hint?: string };

const encoder = new TextEncoder();
/** How long a request of a twin over its rate may wait for its turn before it is refused. */
const RATE_WAIT_MS = 2_000;

/** Attaches the request loop to an inbound stream. */
export function serveInboundStream(stream: Stream, connection: Connection, deps: InboundDeps): void {
  const remote = connection.remotePeer;
  const guarded = deps.guard.openStream(connection);
  if (typeof guarded === "string") {
    deps.log.debug({ peer: remote.toString(), reason: guarded }, "bus refused a stream");
    stream.abort(new Error(guarded));
    return;
  }
  const remoteAccount = accountOfPeerId(remote);
  const remoteKey = publicKeyOfPeerId(remote);
  const sessionName = `${connection.id}/${stream.id}`;
  // The twin whose signed request opened this stream's session.
  let sessionTwin: number | undefined;
  const decoder = new FrameDecoder({ maxBodyBytes: () => deps.guard.frameLimit(guarded) });
  let buffered = 0;
  // A peer that sends requests but never reads the answers gets its stream reset, instead of
  // the answers piling up in memory without bound.
  stream.maxWriteBufferLength = writeBufferLimit(deps.limits);
  let inFlight = 0;
  // Batch signatures already checked on this stream (digest hex -> signature hex): one ECDSA
  // verification serves every request of a batch.
  const verifiedBatches = new Map<string, string>();
  const verifyAuth = (auth: RequestAuth, key: Uint8Array): boolean => {
    const leaf = requestDigest(auth.body);
    if (auth.batchSize === 1 && auth.siblings.length === 0) return verifyRequestDigest(leaf, auth.signature, key);
    const root = rootFromProof(leaf, auth.batchSize, auth.index, auth.siblings);
    if (!root) return false;
    const digest = batchDigest(auth.batchSize, root);
    const digestHex = bytesToHex(digest);
    const signatureHex = bytesToHex(auth.signature);
    if (verifiedBatches.get(digestHex) === signatureHex) return true;
    if (!verifyRequestDigest(digest, auth.signature, key)) return false;
    verifiedBatches.set(digestHex, signatureHex);
    if (verifiedBatches.size > 256) verifiedBatches.delete(verifiedBatches.keys().next().value!);
    return true;
  };

  // Answers finished in the same event-loop turn leave in one write (one yamux and Noise frame).
  let outgoing: Uint8ArrayList | undefined;
  const flushReplies = (): void => {
    const batch = outgoing;
    outgoing = undefined;
    if (!batch || stream.writeStatus !== "writable") return;
    try {
      stream.send(batch);
    } catch (error) {
      deps.log.debug({ err: error }, "bus reply failed");
    }
  };
  const reply = (id: number, kind: number, body: Uint8Array): void => {
    if (!outgoing) {
      outgoing = new Uint8ArrayList();
      setImmediate(flushReplies);
    }
    outgoing.append(encodeFrame(kind, id, [body]));
  };
  const replyError = (id: number, error: WireError): void => {
    deps.metrics.inbound.error(error.code);
    let body: Uint8Array;
    try {
      body = encoder.encode(JSON.stringify(error));
    } catch {
      body = encoder.encode(JSON.stringify({ code: error.code, message: error.message }));
    }
    reply(id, FRAME_KIND.error, body);
  };

  const handleFrame = async (frame: DecodedFrame): Promise<void> => {
    const started = performance.now();
    deps.metrics.inbound.requests++;
    deps.guard.busy(guarded, 1);
    try {
      const refusal = await serveRequest(frame);
      if (refusal) replyError(frame.id, refusal);
    } finally {
      deps.guard.busy(guarded, -1);
      deps.metrics.inbound.latency.observe(performance.now() - started);
    }
  };

  const serveRequest = async (frame: DecodedFrame): Promise<WireError | undefined> => {
    let auth: RequestAuth | undefined;
    let body: Uint8Array;
    if (frame.kind === FRAME_KIND.request) {
      const decoded = decodeRequestAuth(frame.rest);
      if (typeof decoded === "string") return { code: BUS_ERROR_CODES.badRequest, message: decoded };
      auth = decoded;
      body = decoded.body;
    } else if (frame.kind === FRAME_KIND.sessionRequest) {
      if (sessionTwin === undefined) return { code: BUS_ERROR_CODES.noSession, message: "a session request needs a session: send a signed request on this stream first" };
      body = frame.rest;
    } else {
      return { code: BUS_ERROR_CODES.badRequest, message: "only request frames may be sent to a peer's bus stream" };
    }
    if (body.byteLength > deps.limits.maxMessageBytes) return tooLarge(body.byteLength, deps.limits.maxMessageBytes);
    const envelope = parseEnvelope(body);
    if (typeof envelope === "string") return { code: BUS_ERROR_CODES.badRequest, message: envelope };
    const refusal = checkTime(envelope, deps.limits);
    if (refusal) return refusal;
    if (envelope.destination !== deps.twinId) {
      return { code: BUS_ERROR_CODES.wrongDestination, message: `this peer is twin ${deps.twinId}, not twin ${envelope.destination}`, details: { destination: envelope.destination, twin: deps.twinId } };
    }
    const source = await deps.twins.get(envelope.source).catch(() => undefined);
    if (!source) return { code: BUS_ERROR_CODES.unknownSource, message: `twin ${envelope.source} is not known`, details: { source: envelope.source } };
    if (!remoteAccount || !remoteKey || source.account.toLowerCase() !== remoteAccount.toLowerCase()) {
      return { code: BUS_ERROR_CODES.sourceMismatch, message: `the connected peer is not twin ${envelope.source}`, details: { source: envelope.source, peer: remote.toString() } };
    }
    // Over its rate, a twin's requests wait for their turn (up to RATE_WAIT_MS) instead of being
    // refused at once: a flooding twin is slowed down to its rate, so it cannot take the node's
    // time from other twins by retrying refusals as fast as they come back (issue 12's bench).
    const wait = deps.limiter.reserve(envelope.source, RATE_WAIT_MS);
    if (wait < 0) {
      return { code: BUS_ERROR_CODES.rateLimited, message: "too many requests", details: { twin: envelope.source }, hint: "slow down and retry later" };
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (auth) {
      if (!verifyAuth(auth, remoteKey)) return { code: BUS_ERROR_CODES.badSignature, message: "the request signature is not valid for the source twin" };
      if (sessionTwin === undefined) {
        sessionTwin = envelope.source;
        deps.guard.prove(guarded, envelope.source);
        deps.log.debug({ twin: envelope.source, peer: remote.toString(), session: sessionName }, "bus session opened");
      }
    } else if (envelope.source !== sessionTwin) {
      return { code: BUS_ERROR_CODES.sourceMismatch, message: `this stream's session belongs to twin ${sessionTwin}`, details: { source: envelope.source, session: sessionTwin } };
    }
    if (!deps.replay.add(`${envelope.source}:${envelope.uid}`, envelope.expiration)) {
      return { code: BUS_ERROR_CODES.replayed, message: "this request was already received", details: { uid: envelope.uid } };
    }
    if (envelope.command === SESSION_HELLO) {
      reply(frame.id, FRAME_KIND.response, encoder.encode("null"));
      return undefined;
    }
    const handler = deps.handlers.get(envelope.command);
    if (!handler) return { code: BUS_ERROR_CODES.unknownCommand, message: `unknown command ${envelope.command}`, details: { command: envelope.command } };
    const ctx: HandlerContext = { twinId: envelope.source, account: source.account, peerId: remote.toString(), command: envelope.command, uid: envelope.uid, expiration: envelope.expiration, auth: auth ? "signature" : "session", session: sessionName };
    let result: unknown;
    try {
      result = await handler(envelope.payload, ctx);
    } catch (error) {
      if (!(error instanceof BaseError)) deps.log.error({ err: error, command: envelope.command }, "bus handler failed");
      return errorToWire(error);
    }
    let out: Uint8Array;
    try {
      out = encoder.encode(JSON.stringify(result ?? null));
    } catch (error) {
      deps.log.error({ err: error, command: envelope.command }, "bus handler returned a value that is not JSON");
      return { code: BUS_ERROR_CODES.internal, message: "the handler returned a value that cannot be sent" };
    }
    if (out.byteLength > deps.limits.maxMessageBytes) return tooLarge(out.byteLength, deps.limits.maxMessageBytes, "response");
    reply(frame.id, FRAME_KIND.response, out);
    return undefined;
  };

  stream.addEventListener("close", () => {
    deps.guard.closeStream(guarded, buffered);
    buffered = 0;
  });
  stream.addEventListener("message", (event) => {
    let frames;
    try {
      frames = decoder.push(event.data);
    } catch (error) {
      deps.log.warn({ reason: (error as Error).message, peer: remote.toString() }, "bus peer sent a broken stream; closing it");
      stream.abort(error as Error);
      return;
    }
    const over = deps.guard.account(guarded, decoder.bufferedBytes - buffered);
    buffered = decoder.bufferedBytes;
    if (over) {
      deps.log.debug({ peer: remote.toString(), reason: over }, "bus reset a stream over its buffer budget");
      stream.abort(new Error(over));
      return;
    }
    for (const frame of frames) {
      if (frame.type === "oversize") {
        deps.metrics.inbound.requests++;
        replyError(frame.id, guarded.proven
          ? tooLarge(frame.bodyBytes, deps.limits.maxMessageBytes)
          : { ...tooLarge(frame.bodyBytes, deps.limits.maxUnprovenFrameBytes), hint: `a connection carries at most ${deps.limits.maxUnprovenFrameBytes} bytes per frame until a signed request verified on it: send a small signed request (e.g. ${SESSION_HELLO}) first` });
        continue;
      }
      if (inFlight >= deps.limits.maxInFlightPerPeer) {
        deps.metrics.inbound.requests++;
        replyError(frame.id, { code: BUS_ERROR_CODES.rateLimited, message: "too many requests in flight", details: { max: deps.limits.maxInFlightPerPeer } });
        continue;
      }
      inFlight++;
      handleFrame(frame)
        .catch((error: unknown) => deps.log.error({ err: error }, "bus request failed unexpectedly"))
        .finally(() => inFlight--);
    }
  });
}

function checkTime(envelope: RequestEnvelope, limits: BusLimits): WireError | undefined {
  const now = Date.now();
  if (envelope.expiration <= now) return { code: BUS_ERROR_CODES.expired, message: "the request has expired", details: { expiration: envelope.expiration, now } };
  if (envelope.timestamp > now + limits.clockSkewMs) {
    return { code: BUS_ERROR_CODES.futureDated, message: "the request is dated in the future", details: { timestamp: envelope.timestamp, now }, hint: "check the sender's clock" };
  }
  if (envelope.expiration < envelope.timestamp || envelope.expiration - envelope.timestamp > limits.maxTtlMs) {
    return { code: BUS_ERROR_CODES.badRequest, message: `the validity window must be between 0 and ${limits.maxTtlMs} ms`, details: { timestamp: envelope.timestamp, expiration: envelope.expiration } };
  }
  return undefined;
}

function tooLarge(bytes: number, max: number, what = "request"): WireError {
  return { code: BUS_ERROR_CODES.tooLarge, message: `the ${what} is larger than this peer accepts`, details: { bytes, max } };
}

/** Bytes a bus stream may hold unsent before it is reset (the remote is not reading). */
function writeBufferLimit(limits: Pick<BusLimits, "maxMessageBytes">): number {
  return Math.max(16 * 1024 * 1024, 8 * limits.maxMessageBytes);
}
