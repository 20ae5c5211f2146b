/**
 * Streamed `vm exec` sessions on the node (issue 15): the owner opens a command in its running
 * zmachine (`zos.zmachine.exec_open`, a terminal or a stdin pipe) and drives it with
 * `zos.zmachine.exec_io` calls (stdin, EOF, resize, signal, close; each answers the output since
 * the last call, waiting up to `wait_ms` for some, and the exit at the end).
 *
 * Hostile clients are bounded: sessions per twin and per node, stdin per call (schema) and what the
 * agent's window takes, unread output per session (past it the command is killed: a client that
 * never reads cannot make the node hold more), an idle timeout (no call for `idleMs`: the command
 * is killed and the session dropped: a half-open client costs that much), the session's longest
 * life (the agent kills the command), one waiting call per session. Sessions are the twin's own: an
 * id of another twin's session reads as unknown.
 *
 * @example
 * ```ts
 * const sessions = new ExecSessions({ start: (vmId, o) => hypervisor.session(vmId, o) });
 * const { session } = await sessions.open(twin, vmId, { argv: ["sh"], tty: true, rows: 24, cols: 80, timeout_sec: 600 });
 * const r = await sessions.io(twin, { session, stdin: Buffer.from("exit 3\r").toString("base64"), wait_ms: 2000 });
 * ```
 */
import { randomBytes } from "node:crypto";
import { BaseError, VM_EXEC_IO_OUTPUT_MAX, type NodeApi, type VmExecExit, type VmExecIoAnswer } from "@zgrid/types";
import { createLogger } from "@zgrid/log";
import type { AgentSession, SessionOptions } from "../../hypervisor/guest-agent.ts";

const log = createLogger("zos.exec-sessions");

/** Too many sessions (of this twin, or on this node). */
export class ExecSessionLimitError extends BaseError {
  override readonly code: string = "EXEC_SESSION_LIMIT";
}

/** No session of that id for this twin (ended, timed out, or never opened by it). */
export class ExecSessionNotFoundError extends BaseError {
  override readonly code: string = "EXEC_SESSION_NOT_FOUND";
}

export interface ExecSessionLimits {
  /** Sessions one twin may have open on this node. */
  perTwin: number;
  /** Sessions open on this node in total. */
  perNode: number;
  /** A session without an `io` call for this long is killed and dropped. */
  idleMs: number;
  /** Output bytes a session holds unread at most; past it the command is killed. */
  maxUnreadBytes: number;
}

export const DEFAULT_EXEC_SESSION_LIMITS: ExecSessionLimits = { perTwin: 4, perNode: 32, idleMs: 30_000, maxUnreadBytes: 1 << 20 };

type OpenRequest = Omit<NodeApi["vmExecOpen"]["request"], "contract_id" | "name">;
type IoRequest = NodeApi["vmExecIo"]["request"];

interface Session {
  id: string;
  twin: number;
  agent: AgentSession;
  chunks: Array<{ stream: "stdout" | "stderr"; data: Buffer }>;
  unread: number;
  exit?: VmExecExit;
  /** Set when the node ended it (idle, unread output, closed). */
  reason: string;
  idle: NodeJS.Timeout;
  wake?: () => void;
}

export interface ExecSessionsOptions {
  /** Starts the command in the VM (Hypervisor.session). */
  start(vmId: string, o: SessionOptions): Promise<AgentSession>;
  limits?: Partial<ExecSessionLimits>;
}

export class ExecSessions {
  readonly limits: ExecSessionLimits;
  readonly #start: ExecSessionsOptions["start"];
  readonly #sessions = new Map<string, Session>();
  /** Opens in progress per twin (counted against the limits before the agent answers). */
  readonly #opening = new Map<number, number>();

  constructor(o: ExecSessionsOptions) {
    this.#start = o.start;
    this.limits = { ...DEFAULT_EXEC_SESSION_LIMITS, ...o.limits };
  }

  /** Sessions open (of `twin`, or all). */
  count(twin?: number): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (twin === undefined || s.twin === twin) n++;
    return n + (twin === undefined ? [...this.#opening.values()].reduce((a, b) => a + b, 0) : this.#opening.get(twin) ?? 0);
  }

  async open(twin: number, vmId: string, r: OpenRequest): Promise<{ session: string }> {
    if (this.count(twin) >= this.limits.perTwin) throw new ExecSessionLimitError(`you have ${this.limits.perTwin} exec sessions open on this node already`, { hint: "end one (exit the command) or wait for an idle one to time out" });
    if (this.count() >= this.limits.perNode) throw new ExecSessionLimitError(`this node has ${this.limits.perNode} exec sessions open`, { hint: "try again later" });
    this.#opening.set(twin, (this.#opening.get(twin) ?? 0) + 1);
    const id = randomBytes(16).toString("hex");
    const ref: { s?: Session } = {};
    const early: Session["chunks"] = [];
    let agent: AgentSession;
    try {
      agent = await this.#start(vmId, {
        argv: r.argv, tty: r.tty ?? false, rows: r.rows ?? 24, cols: r.cols ?? 80, timeoutMs: (r.timeout_sec ?? 3600) * 1000,
        ...(r.env ? { env: r.env } : {}), ...(r.workdir ? { workdir: r.workdir } : {}), ...(r.user ? { user: r.user } : {}),
        onOutput: (stream, data) => { if (ref.s) this.#onOutput(ref.s, stream, data); else early.push({ stream, data }); },
      });
    } finally {
      const n = (this.#opening.get(twin) ?? 1) - 1;
      if (n > 0) this.#opening.set(twin, n); else this.#opening.delete(twin);
    }
    const session: Session = { id, twin, agent, chunks: [], unread: 0, reason: "", idle: this.#idleTimer(id) };
    ref.s = session;
    this.#sessions.set(id, session);
    for (const c of early) this.#onOutput(session, c.stream, c.data);
    agent.done.then(
      (x) => { session.exit = { exit_code: x.code ?? null, signal: x.signal ?? null, timed_out: x.timedOut, reason: session.reason }; },
      (e: unknown) => { session.exit = { exit_code: null, signal: null, timed_out: false, reason: session.reason || (e as Error).message.slice(0, 400) }; },
    ).finally(() => session.wake?.());
    log.info({ twin, vm: vmId, session: id, tty: r.tty ?? false }, "exec session opened");
    return { session: id };
  }

  async io(twin: number, r: IoRequest): Promise<VmExecIoAnswer> {
    const s = this.#sessions.get(r.session);
    if (!s || s.twin !== twin) throw new ExecSessionNotFoundError("no such exec session (it ended, timed out, or is not yours)", { hint: "open a new one: `zgrid vm exec`" });
    this.#touch(s);
    if (r.signal !== undefined) s.agent.kill(r.signal);
    if (r.resize) s.agent.resize(r.resize.rows, r.resize.cols);
    let taken = 0;
    if (r.stdin) {
      const bytes = Buffer.from(r.stdin, "base64");
      taken = s.agent.write(bytes);
      if (r.eof && taken === bytes.length) s.agent.closeStdin();
    } else if (r.eof) s.agent.closeStdin();
    if (r.close && !s.exit) {
      s.reason ||= "closed by the client";
      s.agent.kill(9);
      await Promise.race([s.agent.done.catch(() => undefined), new Promise((res) => setTimeout(res, 5000).unref())]);
    }
    const wait = r.wait_ms ?? 5000;
    if (!s.chunks.length && !s.exit && wait > 0) {
      s.wake?.(); // one waiting call per session: the earlier one answers now
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done(): void { clearTimeout(timer); if (s!.wake === done) s!.wake = undefined; resolve(); }
        s.wake = done;
      });
    }
    this.#touch(s);
    const output: VmExecIoAnswer["output"] = [];
    let bytes = 0;
    while (s.chunks.length && bytes < VM_EXEC_IO_OUTPUT_MAX) {
      const c = s.chunks[0]!;
      const room = VM_EXEC_IO_OUTPUT_MAX - bytes;
      const part = c.data.length > room ? c.data.subarray(0, room) : c.data;
      if (part.length === c.data.length) s.chunks.shift(); else c.data = c.data.subarray(room);
      bytes += part.length;
      const last = output[output.length - 1];
      if (last && last.stream === c.stream && bytes <= VM_EXEC_IO_OUTPUT_MAX) last.data = Buffer.concat([Buffer.from(last.data, "base64"), part]).toString("base64");
      else output.push({ stream: c.stream, data: part.toString("base64") });
    }
    s.unread -= bytes;
    if (s.exit && !s.chunks.length) {
      this.#drop(s);
      return { output, stdin_taken: taken, exit: s.exit };
    }
    return { output, stdin_taken: taken };
  }

  /** Kills every session's command (daemon stop). */
  closeAll(): void {
    for (const s of [...this.#sessions.values()]) {
      s.reason ||= "the node daemon stopped";
      s.agent.kill(9);
      this.#drop(s);
    }
  }

  #onOutput(s: Session, stream: "stdout" | "stderr", data: Buffer): void {
    if (s.unread + data.length > this.limits.maxUnreadBytes) {
      if (!s.reason) {
        s.reason = `the client did not read the output (more than ${this.limits.maxUnreadBytes} bytes unread): killed`;
        s.agent.kill(9);
        log.warn({ twin: s.twin, session: s.id }, "exec session: output not read, command killed");
      }
      return;
    }
    s.unread += data.length;
    s.chunks.push({ stream, data });
    s.wake?.();
  }

  #idleTimer(id: string): NodeJS.Timeout {
    const t = setTimeout(() => {
      const s = this.#sessions.get(id);
      if (!s) return;
      s.reason ||= `idle: no exec_io call for ${this.limits.idleMs} ms`;
      s.agent.kill(9);
      log.info({ twin: s.twin, session: id }, "exec session idle: command killed");
      this.#drop(s);
    }, this.limits.idleMs);
    t.unref();
    return t;
  }

  #touch(s: Session): void {
    clearTimeout(s.idle);
    s.idle = this.#idleTimer(s.id);
  }

  #drop(s: Session): void {
    clearTimeout(s.idle);
    this.#sessions.delete(s.id);
    s.wake?.();
  }
}
