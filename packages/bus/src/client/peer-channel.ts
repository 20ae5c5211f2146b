/**
 * One persistent outbound stream to a remote peer, multiplexing requests by id (a stream per
 * request costs 4-7x in latency: PLATFORM.md). The stream is opened on first use and reopened
 * after a loss; a request that was on the wire when the stream broke is sent again once, with
 * the same envelope, so the receiver's replay cache keeps it at-most-once.
 *
 * Sessions: requests are signed until one signed request on the current stream was answered
 * with a response (the receiver verified the signature and bound the stream to this twin);
 * after that, requests on that stream go as session requests (the envelope alone, no ECDSA on
 * either side). A new stream starts unproven again; a session request resent on a new stream is
 * signed first.
 *
 * @example
 * ```ts
 * const channel = new PeerChannel({ node, peerId, addrs, maxBodyBytes: 1 << 20, signer: new BatchSigner(key), log });
 * const frame = await channel.call(envelopeBytes, Date.now() + 10_000);
 * channel.close();
 * ```
 */
import type { Libp2p, PeerId, Stream } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "@zgrid/log";
import { Uint8ArrayList } from "uint8arraylist";
import { BUS_ERROR_CODES, BusConnectionLostError, BusStoppedError, BusTimeoutError, BusUnreachableError } from "../errors/bus-errors.ts";
import { FRAME_KIND, FrameDecoder, encodeFrame, type DecodedFrame } from "../wire/frame-codec.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import type { BatchSigner } from "./batch-signer.ts";

export interface PeerChannelOptions {
  node: Libp2p;
  peerId: PeerId;
  /** Dialable addresses of the peer, each ending in `/p2p/<peerId>`. */
  addrs: Multiaddr[];
  maxBodyBytes: number;
  log: Logger;
  /** Times a request already on the wire is resent after a connection loss. */
  resends?: number;
  /** Signs request bodies (batched) and, for resends, at once. */
  signer: Pick<BatchSigner, "sign" | "signNow">;
  /** Use sessions (default true); false signs every request (the benchmark's baseline). */
  sessions?: boolean;
  /**
   * A new small signed request (a `bus.hello` envelope), sent to open a session before a request
   * larger than the frames a receiver takes from connections that have not proven themselves.
   */
  hello?: () => Uint8Array;
}

/** Requests larger than this open a session first (receivers cap strangers' frames at 64 KiB). */
const HELLO_ABOVE_BYTES = 32 * 1024;

interface Pending {
  /** The envelope bytes. */
  body: Uint8Array;
  /** Its auth block when signed (always for the first requests on a stream). */
  auth: Uint8Array | undefined;
  resolve: (frame: DecodedFrame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The stream the request was last written to. */
  sentOn: Stream | undefined;
  resent: number;
  /** A hello was sent to open a session for this (large) request. */
  helloSent?: boolean;
}

export class PeerChannel {
  readonly peerId: PeerId;
  #addrs: Multiaddr[];
  readonly #options: PeerChannelOptions;
  readonly #pending = new Map<number, Pending>();
  #stream: Stream | undefined;
  /** The stream whose session is open (a signed request on it was answered). */
  #sessionStream: Stream | undefined;
  #opening: Promise<void> | undefined;
  #lastDialError: unknown;
  /** Ids of requests waiting to be written (new, or to resend after a loss). */
  #unsent: number[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #closed = false;

  constructor(options: PeerChannelOptions) {
    this.#options = options;
    this.peerId = options.peerId;
    this.#addrs = options.addrs;
  }

  /** Replaces the addresses used for the next dial (twin record changed). */
  setAddrs(addrs: Multiaddr[]): void {
    this.#addrs = addrs;
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** True while requests go without signatures (the current stream's session is open). */
  get inSession(): boolean {
    return this.#stream !== undefined && this.#sessionStream === this.#stream;
  }

  /**
   * Sends a request (the envelope's bytes) and resolves with the response or error frame.
   * Rejects with BusTimeoutError at `deadline`, BusUnreachableError when the peer could not be
   * reached by then, BusConnectionLostError when resends are exhausted.
   */
  async call(body: Uint8Array, deadline: number): Promise<DecodedFrame> {
    if (this.#closed) throw new BusStoppedError("the bus is stopped");
    const sessions = this.#options.sessions !== false;
    if (sessions && !this.inSession && body.byteLength > HELLO_ABOVE_BYTES && this.#options.hello) {
      // Its answer (even an error) is not the caller's business; the request below reports.
      await this.call(this.#options.hello(), deadline).catch(() => undefined);
    }
    const auth = this.inSession && sessions ? undefined : await this.#options.signer.sign(body);
    if (this.#closed) throw new BusStoppedError("the bus is stopped");
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    return new Promise<DecodedFrame>((resolve, reject) => {
      const timer = setTimeout(() => this.#expire(id), Math.max(0, deadline - Date.now()));
      this.#pending.set(id, { body, auth, resolve, reject, timer, sentOn: undefined, resent: 0 });
      this.#unsent.push(id);
      this.#scheduleFlush();
    });
  }

  /** Fails every pending request and closes the stream. */
  close(): void {
    this.#closed = true;
    for (const [id, p] of this.#pending) this.#settle(id, p, new BusStoppedError("the bus is stopped"));
    this.#stream?.abort(new Error("bus stopped"));
    this.#stream = undefined;
  }

  #expire(id: number): void {
    const p = this.#pending.get(id);
    if (!p) return;
    const error = p.sentOn === undefined && this.#lastDialError !== undefined
      ? new BusUnreachableError(`peer ${this.peerId} could not be reached`, { details: { peerId: this.peerId.toString(), reason: String(this.#lastDialError) }, hint: "check the twin's addresses/relays and that its peer is running" })
      : new BusTimeoutError("no answer within the timeout", { details: { peerId: this.peerId.toString() } });
    this.#settle(id, p, error);
  }

  #settle(id: number, p: Pending, result: DecodedFrame | Error): void {
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  /** Writes every unsent request, opening the stream first when needed. */
  #flush(): void {
    this.#flushScheduled = false;
    const stream = this.#stream;
    if (stream === undefined || stream.writeStatus !== "writable") {
      this.#open();
      return;
    }
    // Everything queued goes out in one write: one yamux frame, one Noise frame, one syscall.
    const batch = new Uint8ArrayList();
    const deferred: number[] = [];
    for (const id of this.#unsent) {
      const p = this.#pending.get(id);
      if (!p || p.sentOn === stream) continue;
      if (this.#sessionStream !== stream && p.body.byteLength > HELLO_ABOVE_BYTES && this.#options.hello && this.#options.sessions !== false && !p.helloSent) {
        // Too large for a stream without a session (a resend after a loss): open one first.
        p.helloSent = true;
        deferred.push(id);
        continue;
      }
      p.sentOn = stream;
      // A session request may only travel on the stream whose session is open; elsewhere
      // (a resend on a new stream) it is signed first.
      if (!p.auth && this.#sessionStream !== stream) p.auth = this.#options.signer.signNow(p.body);
      batch.append(p.auth ? encodeFrame(FRAME_KIND.request, id, [p.auth, p.body]) : encodeFrame(FRAME_KIND.sessionRequest, id, [p.body]));
    }
    this.#unsent = [];
    if (deferred.length > 0) {
      const hello = this.#options.hello!;
      void this.call(hello(), Date.now() + 10_000)
        .catch(() => undefined)
        .finally(() => {
          this.#unsent.push(...deferred);
          this.#scheduleFlush();
        });
    }
    if (batch.byteLength === 0) return;
    try {
      stream.send(batch);
    } catch (error) {
      this.#options.log.debug({ err: error }, "bus stream write failed");
      this.#lost(stream);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #open(): void {
    if (this.#opening || this.#closed) return;
    this.#opening = this.#dialWithRetry().finally(() => {
      this.#opening = undefined;
    });
  }

  async #dialWithRetry(): Promise<void> {
    let backoff = 50;
    while (!this.#closed && this.#pending.size > 0) {
      try {
        const stream = await this.#dial();
        if (this.#closed) {
          stream.abort(new Error("bus stopped"));
          return;
        }
        this.#attach(stream);
        this.#lastDialError = undefined;
        this.#flush();
        return;
      } catch (error) {
        this.#lastDialError = error;
        this.#options.log.debug({ err: error, peer: this.peerId.toString() }, "bus dial failed");
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1_000);
      }
    }
  }

  async #dial(): Promise<Stream> {
    const { node } = this.#options;
    // Reuse a live connection (e.g. the one the peer opened to us) before dialing addresses.
    const target = node.getConnections(this.peerId).length > 0 || this.#addrs.length === 0 ? this.peerId : this.#addrs;
    return node.dialProtocol(target, BUS_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) });
  }

  #attach(stream: Stream): void {
    this.#stream = stream;
    stream.maxWriteBufferLength = Math.max(16 * 1024 * 1024, 8 * this.#options.maxBodyBytes);
    const decoder = new FrameDecoder({ maxBodyBytes: this.#options.maxBodyBytes });
    stream.addEventListener("message", (event) => {
      let frames;
      try {
        frames = decoder.push(event.data);
      } catch (error) {
        this.#options.log.warn({ reason: (error as Error).message, peer: this.peerId.toString() }, "bus peer sent a broken frame");
        stream.abort(error as Error);
        return;
      }
      for (const frame of frames) {
        const p = this.#pending.get(frame.id);
        if (!p || p.sentOn !== stream) continue; // late answer to a request that timed out
        if (frame.type === "oversize") {
          this.#settle(frame.id, p, { type: "frame", kind: FRAME_KIND.error, id: frame.id, rest: oversizeAnswer(frame.bodyBytes, this.#options.maxBodyBytes) });
        } else if (p.resent > 0 && frame.kind === FRAME_KIND.error && isReplayAnswer(frame.rest)) {
          // The first copy reached the peer before the connection broke: it may have run.
          this.#settle(frame.id, p, new BusConnectionLostError("the connection was lost after the request was sent; the peer received it", { details: { peerId: this.peerId.toString(), maybeExecuted: true } }));
        } else {
          // A response to a signed request: the peer verified the signature and opened the session.
          if (frame.kind === FRAME_KIND.response && p.auth && this.#stream === stream && this.#options.sessions !== false) this.#sessionStream = stream;
          this.#settle(frame.id, p, frame);
        }
      }
    });
    stream.addEventListener("close", () => this.#lost(stream));
  }

  /** The stream broke: resend what was on it (once), fail what was resent already. */
  #lost(stream: Stream): void {
    // Also for a stream already replaced (it stopped being writable first): its requests count.
    if (this.#stream === stream) this.#stream = undefined;
    if (this.#sessionStream === stream) this.#sessionStream = undefined;
    if (stream.status === "open") stream.abort(new Error("bus stream lost"));
    const resends = this.#options.resends ?? 1;
    for (const [id, p] of this.#pending) {
      if (p.sentOn !== stream) continue;
      if (p.resent >= resends) {
        this.#settle(id, p, new BusConnectionLostError("the connection was lost after the request was sent", { details: { peerId: this.peerId.toString(), maybeExecuted: true } }));
      } else {
        p.resent++;
        p.sentOn = undefined;
        this.#unsent.push(id);
      }
    }
    if (this.#unsent.length > 0 && !this.#closed) this.#flush();
  }
}

function oversizeAnswer(bodyBytes: number, max: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ code: BUS_ERROR_CODES.tooLarge, message: "the response is larger than this peer accepts", details: { bytes: bodyBytes, max } }));
}

function isReplayAnswer(rest: Uint8Array): boolean {
  try {
    return (JSON.parse(new TextDecoder().decode(rest)) as { code?: unknown }).code === BUS_ERROR_CODES.replayed;
  } catch {
    return false;
  }
}
