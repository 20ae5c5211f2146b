/**
 * Traffic that must survive an upgrade, seen from outside the node (tests and bench/upgrade):
 * an HTTP poller through a name gateway (a fresh connection per request, every failure kept with
 * its time and reason) and one long-lived TCP connection to an echo server in a VM (each line sent
 * must come back; a close or error is recorded).
 *
 * @example
 * ```ts
 * const poll = startHttpPoller({ host: "10.249.0.11", port: 80, hostHeader: "web.gw1.test", expect: bootId });
 * const tcp = await openEchoConnection("185.69.0.3", 7000);
 * // … upgrade …
 * poll.stop(); tcp.close();
 * poll.failures; // [] when the gateway never failed
 * ```
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";

export interface PollFailure { at: number; reason: string }

export interface HttpPoller {
  ok: number;
  failures: PollFailure[];
  /** Failures between two instants (ms since the epoch). */
  failedBetween(from: number, to: number): PollFailure[];
  stop(): Promise<void>;
}

/** One GET with a fresh connection; resolves with the status and body, rejects on error/timeout. */
export function httpGet(o: { host: string; port: number; hostHeader: string; path?: string; timeoutMs?: number }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: o.host, port: o.port, path: o.path ?? "/", agent: false, headers: { host: o.hostHeader }, timeout: o.timeoutMs ?? 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c.length + body.length > 64 * 1024 ? "" : c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? 5_000} ms`)));
    req.end();
  });
}

/** GETs `path` every `intervalMs` (one request at a time); a failure is an error, a status other than 200 or a body without `expect`. */
export function startHttpPoller(o: { host: string; port: number; hostHeader: string; expect: string; path?: string; intervalMs?: number }): HttpPoller {
  const p: HttpPoller = {
    ok: 0, failures: [],
    failedBetween: (from, to) => p.failures.filter((f) => f.at >= from && f.at <= to),
    stop: async () => { stopped = true; await loop; },
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const r = await httpGet(o);
        if (r.status === 200 && r.body.includes(o.expect)) p.ok++;
        else p.failures.push({ at, reason: `status ${r.status}: ${r.body.slice(0, 120)}` });
      } catch (e) {
        p.failures.push({ at, reason: e instanceof Error ? e.message : String(e) });
      }
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 250));
    }
  })();
  return p;
}

export interface EchoConnection {
  /** Lines sent and lines that came back in order. */
  sent: number;
  echoed: number;
  /** Why the connection ended or failed, if it did. */
  broken?: string;
  /** Sends one line and waits for it to come back (rejects after `timeoutMs`). */
  roundTrip(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens one TCP connection to a line echo server and sends a line every `intervalMs` for as long as it lives. */
export async function openEchoConnection(host: string, port: number, intervalMs = 500): Promise<EchoConnection> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 10_000 });
    s.once("connect", () => { s.setTimeout(0); resolve(s); });
    s.once("error", reject);
    s.once("timeout", () => s.destroy(new Error(`no TCP connection to ${host}:${port} within 10 s`)));
  });
  let buf = "";
  let closing = false;
  const waiting: Array<{ line: string; done: (e?: Error) => void }> = [];
  const c: EchoConnection = {
    sent: 0, echoed: 0,
    roundTrip: (timeoutMs = 10_000) => new Promise<void>((resolve, reject) => {
      if (c.broken) return reject(new Error(`the connection is broken: ${c.broken}`));
      const line = `zgrid-echo ${++c.sent} ${Date.now()}`;
      const n = c.sent;
      const t = setTimeout(() => fail(`line ${n} did not come back within ${timeoutMs} ms`), timeoutMs);
      waiting.push({ line, done: (e) => { clearTimeout(t); if (e) reject(e); else resolve(); } });
      socket.write(`${line}\n`);
    }),
    close: () => { closing = true; clearInterval(timer); socket.destroy(); },
  };
  const fail = (why: string) => {
    if (c.broken) return;
    c.broken = why;
    for (const w of waiting.splice(0)) w.done(new Error(why));
  };
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (!w) return fail(`unexpected line: ${line.slice(0, 80)}`);
      if (line !== w.line) { w.done(new Error(`got '${line.slice(0, 80)}' for '${w.line}'`)); return fail("echo out of order"); }
      c.echoed++;
      w.done();
    }
    if (buf.length > 4096) fail("echo server sent an over-long line");
  });
  socket.on("error", (e) => fail(`error: ${e.message}`));
  socket.on("close", () => { if (!closing) fail("closed by the peer"); });
  const timer = setInterval(() => void c.roundTrip().catch(() => undefined), intervalMs);
  return c;
}
