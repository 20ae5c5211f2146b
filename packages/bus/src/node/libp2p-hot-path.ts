/**
 * Three fixes to js-libp2p's per-message path, found by profiling the bus one request at a time
 * (issue 22: goal ≤ 2x plain HTTP keep-alive). Each request/response pair cost 4 Noise messages
 * and 8 TCP writes where 2 messages and 2 writes carry it; and every message received threw and
 * caught an Error (stack trace included). None of them changes a byte's meaning on the wire.
 *
 * 1. **Yamux window updates** (@chainsafe/libp2p-yamux 8): a stream answered *every* data frame
 *    with a window-update frame, i.e. one more Noise message and two more TCP writes per message.
 *    Now an update is sent once half the receive window is used (what go-yamux and hashicorp's
 *    yamux do) or when the update carries flags (SYN/ACK), or after a pause. A sender can always
 *    send at least half a window, so the receiver always reaches the half and nothing stalls.
 * 2. **Noise frame decoding** (@libp2p/utils LengthPrefixedDecoder): after the last complete
 *    frame of a chunk the decoder read a length from the empty buffer, which throws a new
 *    RangeError (stack capture: ~5% of the bus's CPU per request) that the loop catches to mean
 *    "need more bytes". The length decoder now throws one pre-made RangeError for an empty buffer.
 * 3. **TCP writes** (@libp2p/tcp): a Noise message is queued as a 2-byte length and its
 *    ciphertext, which the TCP connection wrote as two `socket.write`s (two syscalls, and without
 *    Nagle two packets). A bus connection's small multi-part writes now go out as one buffer.
 *
 * (1) and (2) patch the library classes once per process (every libp2p node in the process
 * gains); (3) is set per TCP connection of a bus node. `libp2pHotPathState()` tells what is
 * applied, so a library update that moves the internals fails a test instead of silently
 * losing the fix.
 *
 * @example
 * ```ts
 * patchLibp2pHotPath();
 * node.addEventListener("connection:open", (e) => coalesceTcpWrites(e.detail));
 * ```
 */
import { Socket } from "node:net";
import { StreamState, YamuxStream } from "@chainsafe/libp2p-yamux/stream";
import type { Connection } from "@libp2p/interface";
import { LengthPrefixedDecoder } from "@libp2p/utils";
import { Uint8ArrayList } from "uint8arraylist";

/** Writes up to this size made of several parts are joined into one before the socket write. */
const COALESCE_MAX_BYTES = 64 * 1024;

/** Thrown (never with a fresh stack) by a length decoder that has no byte to read. */
const NEED_MORE_BYTES = new RangeError("need more bytes");

let yamuxPatched = false;
let decoderPatched = false;

/** Applies fixes (1) and (2) once per process. Idempotent. */
export function patchLibp2pHotPath(): void {
  patchYamuxWindowUpdates();
  patchLengthPrefixedDecoder();
}

/** Which fixes are in place (tests assert all are, so an update of the libraries is noticed). */
export function libp2pHotPathState(): { yamuxWindowUpdates: boolean; lengthPrefixedDecoder: boolean } {
  return { yamuxWindowUpdates: yamuxPatched, lengthPrefixedDecoder: decoderPatched };
}

interface YamuxStreamInternals {
  state: StreamState;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}

function patchYamuxWindowUpdates(): void {
  if (yamuxPatched) return;
  const proto = YamuxStream.prototype as unknown as YamuxStreamInternals;
  const original = proto.sendWindowUpdate;
  if (typeof original !== "function") return;
  proto.sendWindowUpdate = function sendWindowUpdate(this: YamuxStreamInternals): void {
    // Init/SYNReceived: the update carries SYN/ACK. Paused: the original only notes the time.
    const carriesFlags = this.state === StreamState.Init || this.state === StreamState.SYNReceived || this.state === StreamState.Paused;
    if (!carriesFlags && typeof this.recvWindow === "number" && typeof this.recvWindowCapacity === "number" && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return;
    original.call(this);
  };
  yamuxPatched = true;
}

type LengthDecoder = (data: { byteLength: number }) => number;
interface DecoderInternals {
  lengthDecoder: LengthDecoder;
  decode(buf: unknown): Generator<unknown>;
}
const QUIET = Symbol("zgrid.quietLengthDecoder");

function patchLengthPrefixedDecoder(): void {
  if (decoderPatched) return;
  const proto = LengthPrefixedDecoder.prototype as unknown as DecoderInternals;
  const original = proto.decode;
  if (typeof original !== "function") return;
  proto.decode = function decode(this: DecoderInternals & { [QUIET]?: true }, buf: unknown): Generator<unknown> {
    if (!this[QUIET] && typeof this.lengthDecoder === "function") {
      const read = this.lengthDecoder;
      this.lengthDecoder = (data) => {
        if (data.byteLength === 0) throw NEED_MORE_BYTES;
        return read(data);
      };
      this[QUIET] = true;
    }
    return original.call(this, buf);
  };
  decoderPatched = true;
}

interface TcpMaConn {
  socket?: unknown;
  sendData?: (data: Uint8ArrayList) => unknown;
  [QUIET]?: true;
}

/**
 * Fix (3) for one connection: when it runs over a TCP socket, small writes made of several
 * parts go out as one `socket.write`. Other transports (relay, WebSocket) are left as they are.
 * Returns whether the connection was changed.
 */
export function coalesceTcpWrites(connection: Connection): boolean {
  const maConn = (connection as unknown as { maConn?: TcpMaConn }).maConn;
  if (!maConn || !(maConn.socket instanceof Socket) || typeof maConn.sendData !== "function" || maConn[QUIET]) return false;
  const send = maConn.sendData.bind(maConn);
  maConn.sendData = (data) => {
    // subarray() of a list of several parts copies them into one buffer.
    return data.byteLength <= COALESCE_MAX_BYTES && severalParts(data) ? send(new Uint8ArrayList(data.subarray())) : send(data);
  };
  maConn[QUIET] = true;
  return true;
}

function severalParts(list: Uint8ArrayList): boolean {
  const parts = list[Symbol.iterator]();
  parts.next();
  return parts.next().done !== true;
}
