/**
 * Host side of the guest agent: one connection per VM to QEMU's unix-socket chardev behind the
 * guest's `org.zgrid.agent` virtio-serial port (`<vm dir>/agent.sock`), multiplexing execs by id.
 * Agents of older VMs: a VM keeps the agent it booted with across a zosd upgrade. Its hello says
 * its version (`zagent N`); an agent of version 1 may predate stdin ('E') or streamed ('i') execs,
 * so each such frame to it is followed by a barrier (a signal-0 request every agent answers in
 * order): an "unknown frame type" failure before the barrier's answer refuses that command with
 * the agent's version and what to do, instead of a wait until its time limit.
 * Everything is bounded: execs in flight (MAX_EXECS, as the agent), output kept per exec
 * (`maxOutputBytes`; past it the command is killed and the result says `truncated`), time per
 * exec (the agent kills at `timeoutMs`; the host gives up 5 s later), request sizes.
 *
 * @example
 * ```ts
 * const agent = new GuestAgent("/var/lib/zos/vms/vm1/agent.sock");
 * const r = await agent.exec({ argv: ["cat", "/etc/hostname"], timeoutMs: 10_000 });
 * console.log(r.code, r.stdout);
 * await agent.signal(15);   // SIGTERM to the app
 * agent.close();
 * ```
 */
import { connect, type Socket } from "node:net";
import { randomInt } from "node:crypto";
import { FrameDecoder, MAX_EXEC_ARGS, MAX_EXEC_STDIN, MAX_FRAME, encodeExec, encodeFrame, encodeIdData, encodeInteractiveExec, encodeResize, encodeU32Pair, parseExit, type Frame } from "./agent-protocol.ts";
import { VmAgentError } from "./errors.ts";

/** Execs in flight per VM (the agent's own limit). */
export const MAX_EXECS = 16;
/** Output kept per exec by default (stdout + stderr). */
export const DEFAULT_OUTPUT_BYTES = 1 << 20;
/** Longest time limit of one exec. */
export const MAX_EXEC_TIMEOUT_MS = 3_600_000;
/** The agent version this host speaks (zagent.c's hello): streamed execs and stdin need no check from it on. */
export const AGENT_VERSION = 2;

export interface ExecOptions {
  argv: string[];
  /** KEY=VALUE added to the app's environment. */
  env?: Record<string, string>;
  /** Default: the app's WorkingDir. */
  workdir?: string;
  /** Default: the app's User. */
  user?: string;
  /** Time limit (ms, at most 1 h); the command's process group is killed when it passes. */
  timeoutMs: number;
  /** The command's whole stdin (at most MAX_EXEC_STDIN bytes), then EOF; absent: /dev/null. */
  stdin?: Buffer;
  /** Output kept (stdout + stderr bytes); past it the command is killed, `truncated` is set. */
  maxOutputBytes?: number;
  /** Streamed output as it arrives (bounded like the result). */
  onOutput?: (stream: "stdout" | "stderr", data: Buffer) => void;
}

export interface ExecResult {
  /** Exit status, when the command exited. */
  code?: number;
  /** Signal number that killed it. */
  signal?: number;
  timedOut: boolean;
  truncated: boolean;
  stdout: string;
  stderr: string;
}

export interface SessionOptions extends Omit<ExecOptions, "stdin" | "maxOutputBytes" | "onOutput"> {
  /** A terminal (pty: stdout and stderr are one stream) of rows x cols; otherwise a stdin pipe. */
  tty: boolean;
  rows?: number;
  cols?: number;
  /** Every output chunk as it arrives (nothing is kept: the caller bounds what it holds). */
  onOutput: (stream: "stdout" | "stderr", data: Buffer) => void;
}

/** A streamed exec (`GuestAgent.session`): stdin by `write` within the agent's buffer, a terminal. */
export interface AgentSession {
  readonly id: number;
  /** The end of the command (its output went to `onOutput`; stdout/stderr here are empty). */
  readonly done: Promise<ExecResult>;
  /** Stdin bytes the agent takes now (its buffer, MAX_EXEC_STDIN, minus bytes not yet written). */
  room(): number;
  /** Sends up to `room()` bytes of `data`; the number sent. */
  write(data: Buffer): number;
  /** EOF on a pipe, ^D on a terminal (after what was written). */
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  /** Signal to the command's process group. */
  kill(sig: number): void;
}

interface Pending {
  keep: boolean;
  sent: number;
  written: number;
  out: Buffer[];
  err: Buffer[];
  bytes: number;
  max: number;
  truncated: boolean;
  onOutput: ExecOptions["onOutput"];
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class GuestAgent {
  readonly socketPath: string;
  #sock: Socket | undefined;
  #ready: Promise<void> | undefined;
  #decoder = new FrameDecoder();
  #nextId = randomInt(1, 2 ** 30);
  readonly #execs = new Map<number, Pending>();
  readonly #acks = new Map<number, (err: number) => void>();
  #helloWaiter: (() => void) | undefined;
  /** The agent's version from its hello (0 before it). */
  #version = 0;
  /** Execs whose frame an old agent may not know, oldest first, until their barrier is answered. */
  readonly #unchecked: { id: number; what: string }[] = [];
  #helloFail: ((e: Error) => void) | undefined;
  #closed = false;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** The connected agent's version (its hello's `zagent N`; 0 before the hello). */
  get version(): number {
    return this.#version;
  }

  /**
   * Sends an exec frame of a kind an agent of version 1 may not know, then (to such an agent) a
   * barrier; resolves once the agent took it, rejects (and ends exec `id`) when it did not.
   */
  #sendNew(id: number, frame: Buffer, what: string): Promise<void> {
    this.#sock!.write(frame);
    if (this.#version >= AGENT_VERSION) return Promise.resolve();
    const entry = { id, what };
    this.#unchecked.push(entry);
    const req = this.#nextId++ >>> 0;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.#acks.delete(req); settle(); }, 30_000);
      const settle = (): void => {
        clearTimeout(timer);
        const i = this.#unchecked.indexOf(entry);
        if (i >= 0) { this.#unchecked.splice(i, 1); resolve(); } else reject(new VmAgentError(`this VM's guest agent (version ${this.#version}) cannot run ${what}`));
      };
      this.#acks.set(req, settle);
      this.#sock!.write(encodeU32Pair("s", req, 0)); // signal 0: every agent answers 'A' EINVAL, in order
    });
  }

  /** Connects and greets the agent (which drops whatever an earlier connection left running). */
  connect(timeoutMs = 30_000): Promise<void> {
    if (this.#closed) return Promise.reject(new VmAgentError("this guest agent connection was closed"));
    this.#ready ??= new Promise<void>((resolve, reject) => {
      const sock = connect(this.socketPath);
      this.#sock = sock;
      const timer = setTimeout(() => fail(new VmAgentError(`the guest agent did not answer within ${timeoutMs} ms`, { details: { socket: this.socketPath } })), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        this.#helloFail = undefined;
        this.close(e);
        reject(e);
      };
      this.#helloFail = fail;
      sock.once("error", (e: NodeJS.ErrnoException) => fail(new VmAgentError(`no guest agent connection (${e.code ?? e.message})`, { details: { socket: this.socketPath }, cause: e })));
      sock.on("close", () => this.close(new VmAgentError("the guest agent connection closed (VM stopped?)")));
      sock.on("data", (chunk: Buffer) => { for (const f of this.#decoder.push(chunk)) this.#onFrame(f); });
      this.#helloWaiter = () => { clearTimeout(timer); this.#helloFail = undefined; resolve(); };
      sock.write(encodeFrame("h"));
    });
    return this.#ready;
  }

  /** Checks a command against the agent's bounds and gives it an id (exec and session alike). */
  #admit(opts: Pick<ExecOptions, "argv" | "env" | "workdir" | "user" | "timeoutMs">): { env: string[]; timeoutMs: number; id: number } {
    if (opts.argv.length < 1 || opts.argv.length > MAX_EXEC_ARGS) throw new VmAgentError(`a command needs 1-${MAX_EXEC_ARGS} words`);
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    if (env.length > MAX_EXEC_ARGS) throw new VmAgentError(`at most ${MAX_EXEC_ARGS} env entries`);
    if ([...opts.argv, ...env, opts.workdir ?? "", opts.user ?? ""].some((s) => s.includes("\0"))) throw new VmAgentError("command words must not contain NUL bytes");
    if (this.#execs.size >= MAX_EXECS) throw new VmAgentError(`too many execs in this VM at once (at most ${MAX_EXECS})`, { hint: "wait for one to finish" });
    return { env, timeoutMs: Math.max(1, Math.min(opts.timeoutMs, MAX_EXEC_TIMEOUT_MS)), id: this.#nextId++ >>> 0 };
  }

  /** Runs a command in the guest (chrooted into the app's root) and collects its bounded output. */
  async exec(opts: ExecOptions): Promise<ExecResult> {
    const { env, timeoutMs, id } = this.#admit(opts);
    let frame: Buffer;
    try {
      frame = encodeExec({ id, timeoutMs, argv: opts.argv, env, workdir: opts.workdir ?? "/", user: opts.user ?? "", ...(opts.stdin ? { stdin: opts.stdin } : {}) });
    } catch {
      throw new VmAgentError(`the command, its env and its stdin are larger than ${MAX_FRAME} bytes (stdin at most ${MAX_EXEC_STDIN})`);
    }
    await this.connect();
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => this.#end(id, new VmAgentError(`the guest agent did not report the end of the command within ${timeoutMs + 5000} ms`)), timeoutMs + 5000);
      this.#execs.set(id, { keep: true, sent: 0, written: 0, out: [], err: [], bytes: 0, max: opts.maxOutputBytes ?? DEFAULT_OUTPUT_BYTES, truncated: false, onOutput: opts.onOutput, resolve, reject, timer });
      if (opts.stdin) this.#sendNew(id, frame, "a command with stdin").catch(() => undefined); // the exec ends with the reason
      else this.#sock!.write(frame);
    });
  }

  /**
   * Starts a streamed exec: stdin is written as it comes (`write`, within the agent's buffer), the
   * output goes to `onOutput` as it arrives; with `tty` the command gets a terminal (rows x cols).
   * Counts against MAX_EXECS like `exec`.
   */
  async session(opts: SessionOptions): Promise<AgentSession> {
    const { env, timeoutMs, id } = this.#admit(opts);
    let frame: Buffer;
    try {
      frame = encodeInteractiveExec({ id, timeoutMs, argv: opts.argv, env, workdir: opts.workdir ?? "/", user: opts.user ?? "", tty: opts.tty, rows: opts.rows ?? 24, cols: opts.cols ?? 80 });
    } catch {
      throw new VmAgentError(`the command and its env are larger than ${MAX_FRAME} bytes`);
    }
    await this.connect();
    let pending: Pending | undefined;
    const done = new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => this.#end(id, new VmAgentError(`the guest agent did not report the end of the command within ${timeoutMs + 5000} ms`)), timeoutMs + 5000);
      pending = { keep: false, sent: 0, written: 0, out: [], err: [], bytes: 0, max: Number.POSITIVE_INFINITY, truncated: false, onOutput: opts.onOutput, resolve, reject, timer };
      this.#execs.set(id, pending);
    });
    // An old agent's refusal frame can reject `done` before `#sendNew` settles and the catch below
    // awaits it: marked handled here (callers still see the rejection), else Node reports an
    // unhandled rejection (a CI failure of guest-agent-compat.test.ts under load).
    done.catch(() => undefined);
    await this.#sendNew(id, frame, "a streamed command (vm exec -i/-t)").catch(async () => {
      await done; // rejected with the agent's version and what to do
    });
    const p = pending!;
    const live = () => this.#execs.get(id) === p && this.#sock !== undefined;
    const room = () => (live() ? Math.max(0, MAX_EXEC_STDIN - ((p.sent - p.written) >>> 0)) : 0);
    return {
      id, done,
      room,
      write: (data) => {
        const n = Math.min(data.length, room());
        if (n > 0) {
          p.sent = (p.sent + n) >>> 0;
          this.#sock!.write(encodeIdData("d", id, data.subarray(0, n)));
        }
        return n;
      },
      closeStdin: () => { if (live()) this.#sock!.write(encodeIdData("c", id)); },
      resize: (rows, cols) => { if (live()) this.#sock!.write(encodeResize(id, rows, cols)); },
      kill: (sig) => { if (live()) this.#sock!.write(encodeU32Pair("k", id, sig)); },
    };
  }

  /** Delivers signal `sig` to the app (the VM's entrypoint process). */
  async signal(sig: number, timeoutMs = 10_000): Promise<void> {
    await this.connect(timeoutMs);
    const req = this.#nextId++ >>> 0;
    const err = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { this.#acks.delete(req); reject(new VmAgentError(`the guest agent did not confirm signal ${sig}`)); }, timeoutMs);
      this.#acks.set(req, (e) => { clearTimeout(timer); resolve(e); });
      this.#sock!.write(encodeU32Pair("s", req, sig));
    });
    if (err !== 0) throw new VmAgentError(`the guest could not deliver signal ${sig} to the app (errno ${err})`);
  }

  /** Writes raw bytes to the agent (tests: garbage, oversized frames). */
  async sendRaw(bytes: Buffer): Promise<void> {
    await this.connect();
    this.#sock!.write(bytes);
  }

  /** Closes the connection; execs in flight fail with `reason`. */
  close(reason: Error = new VmAgentError("the guest agent connection was closed")): void {
    this.#closed = true;
    const helloFail = this.#helloFail;
    this.#helloFail = undefined;
    helloFail?.(reason);
    this.#sock?.destroy();
    this.#sock = undefined;
    this.#unchecked.length = 0;
    for (const id of [...this.#execs.keys()]) this.#end(id, reason);
    this.#ready = undefined;
    this.#helloWaiter = undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onFrame(f: Frame): void {
    if (f.type === "H") {
      this.#version = Number(/^zagent (\d{1,6})$/.exec(f.payload.toString("latin1"))?.[1] ?? 1);
      this.#helloWaiter?.();
      this.#helloWaiter = undefined;
      return;
    }
    if (f.payload.length < 4) return;
    const id = f.payload.readUInt32BE(0);
    if (f.type === "f" && id === 0 && f.payload.subarray(4).toString("latin1") === "unknown frame type") {
      // an old agent refused the oldest frame it may not know (it answers frames in order)
      const old = this.#unchecked.shift();
      if (old) {
        this.#end(old.id, new VmAgentError(`this VM's guest agent (version ${this.#version}, booted before this node's upgrade) cannot run ${old.what}`, {
          hint: `restart the VM (zgrid vm restart NAME) to boot it with the node's current agent (version ${AGENT_VERSION}); plain \`vm exec NAME -- CMD\` works with the old one`,
        }));
      }
      return;
    }
    if (f.type === "A") { this.#acks.get(id)?.(f.payload.length === 8 ? f.payload.readInt32BE(4) : -1); this.#acks.delete(id); return; }
    const p = this.#execs.get(id);
    if (!p) return; // an exec of an earlier connection, or a failure about a bad frame
    if (f.type === "W") {
      if (f.payload.length === 8) p.written = f.payload.readUInt32BE(4);
    } else if (f.type === "o" || f.type === "r") {
      const data = f.payload.subarray(4);
      if (!p.keep) {
        p.onOutput?.(f.type === "o" ? "stdout" : "stderr", Buffer.from(data));
        return;
      }
      const room = p.max - p.bytes;
      if (room <= 0) return;
      const kept = data.length > room ? data.subarray(0, room) : data;
      p.bytes += kept.length;
      (f.type === "o" ? p.out : p.err).push(Buffer.from(kept));
      p.onOutput?.(f.type === "o" ? "stdout" : "stderr", kept);
      if (kept.length < data.length || p.bytes >= p.max) {
        p.truncated = true;
        this.#sock?.write(encodeU32Pair("k", id, 9));
      }
    } else if (f.type === "x") {
      const x = parseExit(f.payload);
      if (!x) return;
      this.#end(id, undefined, {
        ...(x.code !== undefined ? { code: x.code } : {}), ...(x.signal !== undefined ? { signal: x.signal } : {}),
        timedOut: x.timedOut, truncated: p.truncated,
        stdout: Buffer.concat(p.out).toString("utf8"), stderr: Buffer.concat(p.err).toString("utf8"),
      });
    } else if (f.type === "f") {
      this.#end(id, new VmAgentError(`the guest agent refused the command: ${f.payload.subarray(4).toString("utf8").slice(0, 200)}`));
    }
  }

  #end(id: number, err?: Error, result?: ExecResult): void {
    const p = this.#execs.get(id);
    if (!p) return;
    this.#execs.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(result!);
  }
}
