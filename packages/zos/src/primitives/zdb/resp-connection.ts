/**
 * One RESP client connection with hostile-tenant bounds. Requests are parsed by `redis-parser`
 * (the RESP parser of node-redis/ioredis); only the bounds and the reply encoding are ours.
 * Every chunk goes through the framing guard (resp-guard.ts) BEFORE the parser: nesting depth 1,
 * at most `maxArgs` arguments, at most `maxPendingBytes` declared per request, checked at each
 * header as it arrives (the parser never sees a nested array or an oversized declaration, so it
 * can neither recurse deeply nor allocate what a header claims). Then at most `maxQueued` parsed
 * requests wait (the socket is paused meanwhile), and an idle timeout. A protocol error or a
 * passed bound answers one error line and closes the connection. Requests run one at a time, in
 * order.
 *
 * @example
 * ```ts
 * net.createServer((s) => serveResp(s, limits, async (args) => encode.simple("PONG")));
 * ```
 */
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { MAX_HEADER_BYTES, RespGuard } from "./resp-guard.ts";

interface RedisParser {
  execute(chunk: Buffer): void;
  buffer: Buffer | null;
  offset: number;
  bigStrSize: number;
  totalChunkSize: number;
}
type ParserCtor = new (o: { returnReply: (r: unknown) => void; returnError: (e: unknown) => void; returnFatalError: (e: unknown) => void; returnBuffers: boolean }) => RedisParser;
const Parser = createRequire(import.meta.url)("redis-parser") as ParserCtor;

export interface RespLimits {
  maxArgs: number;
  /** Bytes of one incomplete request held in memory (largest value + key + framing). */
  maxPendingBytes: number;
  maxQueued: number;
  idleMs: number;
}

/** RESP2 reply encoders: each returns the bytes to write. */
export const encode = {
  simple: (s: string): Buffer => Buffer.from(`+${s.replace(/[\r\n]/g, " ")}\r\n`),
  error: (s: string): Buffer => Buffer.from(`-${s.replace(/[\r\n]+/g, " ")}\r\n`),
  int: (n: number): Buffer => Buffer.from(`:${Math.trunc(n)}\r\n`),
  nil: (): Buffer => Buffer.from("$-1\r\n"),
  bulk: (b: Buffer | string): Buffer => {
    const body = typeof b === "string" ? Buffer.from(b) : b;
    const head = `$${body.length}\r\n`;
    const out = Buffer.allocUnsafe(head.length + body.length + 2);
    out.write(head, 0, "latin1");
    body.copy(out, head.length);
    out.write("\r\n", head.length + body.length, "latin1");
    return out;
  },
  array: (items: Buffer[]): Buffer => Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items]),
};

/** Answers one request: a Buffer when the reply is ready at once, else a promise of it; a throw is a `-` reply. */
export type RespHandler = (args: Buffer[]) => Buffer | Promise<Buffer>;

const joined = (bufs: Buffer[]): Buffer => (bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs));

/** Bytes the parser holds for a request not yet complete. */
function pendingBytes(p: RedisParser): number {
  const rest = p.buffer ? p.buffer.length - p.offset : 0;
  return rest + (p.bigStrSize ? p.totalChunkSize : 0);
}

export function serveResp(socket: Socket, limits: RespLimits, handle: RespHandler, onClose?: () => void): void {
  const queue: Buffer[][] = [];
  let closed = false;
  const fail = (why: string) => {
    if (closed) return;
    closed = true;
    socket.end(encode.error(`ERR ${why}`));
    socket.destroySoon();
  };
  const guard = new RespGuard({ maxDepth: 1, maxArgs: limits.maxArgs, maxBulkBytes: limits.maxPendingBytes, maxRequestBytes: limits.maxPendingBytes });
  const parser = new Parser({
    returnBuffers: true,
    returnReply: (r) => {
      if (!Array.isArray(r) || r.length === 0 || r.length > limits.maxArgs || !r.every((a) => Buffer.isBuffer(a))) {
        fail(`protocol: a request is an array of 1 to ${limits.maxArgs} bulk strings`);
        return;
      }
      // redis-parser may hand out views of a pooled buffer: copy before anything async.
      queue.push((r as Buffer[]).map((a) => Buffer.from(a)));
    },
    returnError: () => fail("protocol: a request is an array of bulk strings"),
    returnFatalError: () => fail("protocol: unparsable RESP"),
  });
  socket.setNoDelay(true);
  socket.setTimeout(limits.idleMs, () => fail(`idle for ${limits.idleMs} ms`));
  socket.on("error", () => undefined);
  socket.on("close", () => {
    closed = true;
    onClose?.();
  });
  // A client may send its requests and half-close (`printf … | nc`, a socat relay): the socket is
  // created with allowHalfOpen, so the replies still to come (writes wait for their fdatasync)
  // are sent before it is closed.
  let peerEnded = false;
  socket.on("end", () => {
    peerEnded = true;
    pump();
  });
  socket.on("data", (chunk: Buffer) => {
    if (closed) return;
    // the bounds first: a chunk with a header past them is never parsed
    const bad = guard.scan(chunk);
    if (bad) return fail(`protocol: ${bad}`);
    try {
      parser.execute(chunk);
    } catch {
      // not reachable with the guard in front; a parser bug must still not take the service down
      fail("protocol: unparsable RESP");
      return;
    }
    // defence in depth (the guard bounds a request's declared bytes already)
    if (pendingBytes(parser) > limits.maxPendingBytes + (limits.maxArgs + 1) * (MAX_HEADER_BYTES + 2)) return fail(`request too large: at most ${limits.maxPendingBytes} bytes`);
    if (queue.length > limits.maxQueued) socket.pause();
    pump();
  });

  // Requests start in order as soon as they are parsed (a handler applies its effect before its
  // first await, so order is kept); replies leave in request order as they settle. A reply that is
  // ready at once (GET, EXISTS, …) costs no promise; every reply ready by the end of a data chunk
  // leaves in ONE socket write. So a pipelining client gets many replies per syscall and many
  // writes into one fdatasync (group commit).
  const replies: Array<{ value: Buffer | undefined; quit: boolean }> = [];
  const asError = (e: unknown) => encode.error(e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e));
  let draining = false;
  function pump(): void {
    while (queue.length && !closed && replies.length < limits.maxQueued) {
      const args = queue.shift() as Buffer[];
      const quit = (args[0] as Buffer).length === 4 && (args[0] as Buffer).toString("latin1").toUpperCase() === "QUIT";
      const slot: { value: Buffer | undefined; quit: boolean } = { value: undefined, quit };
      replies.push(slot);
      let r: Buffer | Promise<Buffer>;
      try {
        r = handle(args);
      } catch (e) {
        r = asError(e);
      }
      if (Buffer.isBuffer(r)) slot.value = r;
      else {
        r.then((v) => { slot.value = v; }, (e: unknown) => { slot.value = asError(e); }).finally(() => {
          flush();
          pump();
        });
      }
      if (quit) {
        queue.length = 0;
        break;
      }
    }
    flush();
  }

  function flush(): void {
    if (closed || draining) return;
    const out: Buffer[] = [];
    while (replies.length && (replies[0] as { value: Buffer | undefined }).value !== undefined) {
      const next = replies.shift() as { value: Buffer; quit: boolean };
      out.push(next.value);
      if (next.quit) {
        closed = true;
        socket.end(joined(out));
        return;
      }
    }
    if (out.length === 0) {
      endIfDone();
      return;
    }
    if (!socket.write(joined(out))) {
      // a client that never reads: wait for it instead of buffering more replies
      draining = true;
      const go = () => {
        socket.off("drain", go).off("close", go);
        draining = false;
        pump();
      };
      socket.once("drain", go).once("close", go);
      return;
    }
    if (queue.length <= limits.maxQueued / 2 && socket.isPaused()) socket.resume();
    endIfDone();
  }

  /** After the client half-closed: close once every request it sent is answered. */
  function endIfDone(): void {
    if (!peerEnded || closed || queue.length || replies.length) return;
    closed = true;
    socket.end();
  }
}
