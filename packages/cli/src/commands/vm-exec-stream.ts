/**
 * The client side of a streamed `vm exec -i/-t` session: stdin goes to the node as it comes (a
 * chunk per call, at most 32 KiB; what the command's buffer did not take is sent again), output is
 * fetched by long-poll and written as it arrives, window-size changes and Ctrl-C (without a
 * terminal) pass through, and the exit ends it. With `-t` and a terminal here, that terminal is in
 * raw mode for the session (keys, Ctrl-C included, go to the guest's terminal) and restored after.
 *
 * @example
 * ```ts
 * const s = await grid.vms.execSession("web", ["sh"], { tty: true, rows: 24, cols: 80 });
 * const exit = await runExecStream(s, { tty: true, interactive: true });
 * process.exitCode = exit.exit_code ?? 128 + (exit.signal ?? 0);
 * ```
 */
import type { VmExecExit, VmExecIoAnswer } from "@zgrid/types";

type IoRequest = { stdin?: string; eof?: boolean; resize?: { rows: number; cols: number }; signal?: number; close?: boolean; wait_ms?: number };

export interface ExecStream {
  io(r: IoRequest): Promise<VmExecIoAnswer>;
}

export interface StreamOptions {
  tty: boolean;
  /** Forward this process's stdin (`-i`); without it the command's stdin stays open and empty. */
  interactive: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const CHUNK = 32 * 1024;
/** Stdin read ahead at most before this process stops reading (the node's window pushes back). */
const READ_AHEAD = 256 * 1024;

export async function runExecStream(s: ExecStream, o: StreamOptions): Promise<VmExecExit> {
  const stdin = o.stdin ?? process.stdin;
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  let exit: VmExecExit | undefined;
  let failure: unknown;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let stdinEnded = !o.interactive;
  let eofSent = !o.interactive;
  let resize: { rows: number; cols: number } | undefined;
  let signal: number | undefined;
  let finish = (): void => undefined;
  const finished = new Promise<void>((r) => { finish = r; });
  const take = (r: VmExecIoAnswer): void => {
    for (const out of r.output) (out.stream === "stderr" ? stderr : stdout).write(Buffer.from(out.data, "base64"));
    if (r.exit && !exit) { exit = r.exit; finish(); }
  };
  const fail = (e: unknown): void => { if (!exit && failure === undefined) { failure = e; finish(); } };

  let writing = false;
  const kick = (): void => {
    if (writing || exit || failure !== undefined) return;
    writing = true;
    void (async () => {
      try {
        while (!exit && failure === undefined && (pendingBytes > 0 || (stdinEnded && !eofSent) || resize || signal)) {
          const all = Buffer.concat(pending);
          const chunk = all.subarray(0, CHUNK);
          const eof = stdinEnded && chunk.length === all.length;
          const req: IoRequest = { wait_ms: 0, ...(chunk.length ? { stdin: chunk.toString("base64") } : {}), ...(eof ? { eof: true } : {}), ...(resize ? { resize } : {}), ...(signal ? { signal } : {}) };
          resize = undefined;
          signal = undefined;
          const r = await s.io(req);
          pending.length = 0;
          const rest = all.subarray(r.stdin_taken);
          if (rest.length) pending.push(rest);
          pendingBytes = rest.length;
          if (eof && r.stdin_taken === chunk.length) eofSent = true;
          if (pendingBytes < READ_AHEAD && o.interactive) stdin.resume();
          take(r);
          if (chunk.length && r.stdin_taken < chunk.length) await new Promise((res) => setTimeout(res, 50)); // the command's buffer is full
        }
      } catch (e) {
        fail(e);
      } finally {
        writing = false;
      }
    })();
  };

  const raw = o.tty && o.interactive && stdin.isTTY === true;
  const onData = (c: Buffer): void => {
    pending.push(c);
    pendingBytes += c.length;
    if (pendingBytes >= READ_AHEAD) stdin.pause();
    kick();
  };
  const onEnd = (): void => { stdinEnded = true; kick(); };
  const onResize = (): void => {
    const out = stdout as NodeJS.WriteStream;
    if (out.rows && out.columns) { resize = { rows: Math.min(out.rows, 1000), cols: Math.min(out.columns, 1000) }; kick(); }
  };
  const onSigint = (): void => { signal = 2; kick(); };
  if (o.interactive) {
    if (raw) stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  }
  if (o.tty) (stdout as NodeJS.WriteStream).on?.("resize", onResize);
  if (!raw) process.on("SIGINT", onSigint);
  try {
    // the reader: one long-poll at a time until the exit
    void (async () => {
      try {
        while (!exit && failure === undefined) take(await s.io({ wait_ms: 5000 }));
      } catch (e) {
        fail(e);
      }
    })();
    await finished;
  } finally {
    if (o.interactive) {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    }
    if (o.tty) (stdout as NodeJS.WriteStream).off?.("resize", onResize);
    if (!raw) process.off("SIGINT", onSigint);
  }
  if (!exit) {
    await s.io({ close: true, wait_ms: 0 }).catch(() => undefined);
    throw failure;
  }
  return exit;
}
