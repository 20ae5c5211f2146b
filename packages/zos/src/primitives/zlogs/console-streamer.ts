/**
 * Follows a VM's console log (from its end when started) and sends each new line to an output:
 * `ws://` / `wss://` (one text message per line, Node's WebSocket client) or `redis://host:port/channel`
 * (RESP `PUBLISH channel line`; channel defaults to "zlogs"). Reconnects with a pause when the
 * output goes away; lines produced while it is away are dropped (logs are best effort).
 *
 * @example
 * ```ts
 * const s = new ConsoleStreamer("/var/lib/zos/vms/7-12-vm/console.log", "ws://10.249.0.1:9000/logs");
 * s.start(); … await s.stop();
 * ```
 */
import { createConnection, type Socket } from "node:net";
import { open, stat } from "node:fs/promises";

const POLL_MS = 300;
const RETRY_MS = 1000;

interface Sink { send(line: string): void; ready(): boolean; close(): void }

function redisArg(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

function openSink(output: string, onGone: () => void): Sink {
  const url = new URL(output);
  if (url.protocol === "ws:" || url.protocol === "wss:") {
    const ws = new WebSocket(output);
    ws.addEventListener("close", onGone);
    ws.addEventListener("error", () => ws.close());
    return { send: (l) => ws.send(l), ready: () => ws.readyState === WebSocket.OPEN, close: () => ws.close() };
  }
  const channel = decodeURIComponent(url.pathname.replace(/^\//, "")) || "zlogs";
  const sock: Socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
  let up = false;
  sock.on("connect", () => {
    up = true;
    if (url.password) sock.write(`*2\r\n${redisArg("AUTH")}${redisArg(decodeURIComponent(url.password))}`);
  });
  sock.on("data", () => undefined);
  sock.on("error", () => sock.destroy());
  sock.on("close", () => { up = false; onGone(); });
  return { send: (l) => sock.write(`*3\r\n${redisArg("PUBLISH")}${redisArg(channel)}${redisArg(l)}`), ready: () => up, close: () => sock.destroy() };
}

export class ConsoleStreamer {
  readonly #path: string;
  readonly #output: string;
  #offset = -1;
  #partial = "";
  #sink: Sink | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #nextConnect = 0;

  constructor(path: string, output: string) {
    this.#path = path;
    this.#output = output;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), POLL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#sink?.close();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (!this.#sink && Date.now() >= this.#nextConnect) {
      this.#sink = openSink(this.#output, () => {
        this.#sink = undefined;
        this.#nextConnect = Date.now() + RETRY_MS;
      });
    }
    const size = await stat(this.#path).then((s) => s.size, () => -1);
    if (size < 0) return;
    if (this.#offset < 0 || size < this.#offset) this.#offset = this.#offset < 0 ? size : 0; // start at the end; restart after truncation
    if (size === this.#offset) return;
    const fh = await open(this.#path, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.#offset, 1 << 20));
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
      this.#offset += bytesRead;
      const lines = (this.#partial + buf.subarray(0, bytesRead).toString("utf8")).split("\n");
      this.#partial = lines.pop() ?? "";
      const sink = this.#sink;
      if (sink?.ready()) for (const l of lines) sink.send(l.replace(/\r$/, ""));
    } finally {
      await fh.close();
    }
  }
}
