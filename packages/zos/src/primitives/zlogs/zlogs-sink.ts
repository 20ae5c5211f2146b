/**
 * One connection of a zlogs output: `ws://` / `wss://` (one text message per line, the `ws`
 * library: handshake timeout, no redirects, tiny max payload for what the server sends) or
 * `redis://host:port/channel` (RESP `PUBLISH channel line`; replies are read and dropped).
 * Contained by construction: the connection goes to the address the EgressPolicy checked, every
 * error ends in exactly one `onGone` (never a close that raises an error that closes …), and a
 * slow or stuck server makes lines drop once `MAX_BUFFERED` bytes wait, never memory grow.
 *
 * @example
 * ```ts
 * const sink = openSink("ws://logs.example:9000/x", target, () => scheduleReconnect());
 * if (sink.ready()) sink.send("a line");
 * ```
 */
import { createConnection, type LookupFunction, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import WebSocket from "ws";
import type { EgressTarget } from "../../egress/egress-policy.ts";

/** Bytes waiting to be sent after which new lines are dropped. */
export const MAX_BUFFERED = 1 << 20;
const CONNECT_TIMEOUT_MS = 10_000;

export interface Sink {
  send(line: string): void;
  ready(): boolean;
  close(): void;
}

function redisArg(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

export function openSink(output: string, target: EgressTarget, onGone: () => void): Sink {
  let gone = false;
  const done = () => {
    if (gone) return;
    gone = true;
    onGone();
  };
  const url = new URL(output);
  if (url.protocol === "ws:" || url.protocol === "wss:") {
    const pinned: LookupFunction = (_h, o, cb) => {
      if ((o as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
      else cb(null, target.address, target.family);
    };
    const ws = new WebSocket(output, { lookup: pinned, handshakeTimeout: CONNECT_TIMEOUT_MS, followRedirects: false, maxPayload: 4096, perMessageDeflate: false });
    ws.on("error", () => undefined); // always followed by "close"
    ws.on("unexpected-response", (_req, res) => { res.resume(); ws.terminate(); });
    ws.on("message", () => undefined);
    ws.on("close", done);
    return {
      send: (l) => { if (ws.bufferedAmount < MAX_BUFFERED) ws.send(l, () => undefined); },
      ready: () => !gone && ws.readyState === WebSocket.OPEN,
      close: () => { try { ws.terminate(); } catch { /* already closed */ } },
    };
  }
  const channel = decodeURIComponent(url.pathname.replace(/^\//, "")) || "zlogs";
  const options = { host: target.address, port: target.port || 6379 };
  const sock: Socket = url.protocol === "rediss:" ? tlsConnect({ ...options, servername: target.host }) : createConnection(options);
  let up = false;
  sock.setTimeout(CONNECT_TIMEOUT_MS, () => { if (!up) sock.destroy(); });
  sock.on(url.protocol === "rediss:" ? "secureConnect" : "connect", () => {
    up = true;
    sock.setTimeout(0);
    if (url.password) sock.write(`*2\r\n${redisArg("AUTH")}${redisArg(decodeURIComponent(url.password))}`);
  });
  sock.on("data", () => undefined);
  sock.on("error", () => undefined); // always followed by "close"
  sock.on("close", () => { up = false; done(); });
  return {
    send: (l) => { if (sock.writableLength < MAX_BUFFERED) sock.write(`*3\r\n${redisArg("PUBLISH")}${redisArg(channel)}${redisArg(l)}`); },
    ready: () => up && !gone,
    close: () => sock.destroy(),
  };
}
