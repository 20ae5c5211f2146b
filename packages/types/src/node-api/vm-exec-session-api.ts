/**
 * The streamed `vm exec` session of the node API (issue 15): `zos.zmachine.exec_open` starts a
 * command in the owner's running zmachine (a terminal with `tty`, else a stdin pipe) and answers a
 * session id; `zos.zmachine.exec_io` carries stdin, EOF, resizes, signals and close, and answers
 * the output since the last call (waiting up to `wait_ms` for some), then the exit at the end.
 * Every call is the owner's signed bus request; a session belongs to the twin that opened it.
 *
 * @example
 * ```ts
 * const { session } = await node.vmExecOpen({ contract_id: 12, name: "web", argv: ["sh"], tty: true, rows: 40, cols: 120 });
 * const r = await node.vmExecIo({ session, stdin: Buffer.from("ls\r").toString("base64"), wait_ms: 2000 });
 * // r.output: [{ stream: "stdout", data: "<base64>" }], r.stdin_taken: 3, r.exit: undefined (still running)
 * ```
 */
import { z } from "zod";

/** Bytes of stdin one `exec_io` call carries at most. */
export const VM_EXEC_IO_STDIN_MAX = 32 * 1024;
/** Output bytes one `exec_io` answer carries at most (the rest waits for the next call). */
export const VM_EXEC_IO_OUTPUT_MAX = 256 * 1024;
/** Longest a session may run (seconds). */
export const VM_EXEC_SESSION_MAX_SEC = 3600;
/** Longest an `exec_io` call waits for output (ms). */
export const VM_EXEC_IO_WAIT_MAX_MS = 10_000;

const b64 = (max: number, what: string) => z.string().max(Math.ceil(max / 3) * 4, `${what} at most ${max} bytes`).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64");
const word = z.string().max(8192, "each command word at most 8192 bytes").regex(/^[^\0]*$/, "no NUL bytes");
const dim = (what: string) => z.number({ error: `${what}: 1-1000` }).int(`${what}: 1-1000`).min(1, `${what}: 1-1000`).max(1000, `${what}: 1-1000`);

export const vmExecOpenRequestSchema = z.object({
  contract_id: z.number({ error: "a positive integer contract id" }).int("a positive integer contract id").min(1, "a positive integer contract id").max(Number.MAX_SAFE_INTEGER, "a positive integer contract id"),
  name: z.string({ error: "the name of a zmachine workload" }).regex(/^[a-zA-Z0-9_]{1,36}$/, "the name of a zmachine workload"),
  argv: z.array(word, { error: "the command: a list of words" }).min(1, "the command needs at least one word").max(256, "at most 256 command words"),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "env keys are [A-Za-z_][A-Za-z0-9_]*"), z.string().max(8192).regex(/^[^\0]*$/))
    .refine((e) => Object.keys(e).length <= 64, "at most 64 env entries").optional(),
  workdir: z.string().regex(/^\/[^\0\n]{0,1023}$/, "an absolute path").optional(),
  user: z.string().regex(/^[^\0\n\s:]{1,64}(:[^\0\n\s:]{1,64})?$/, "name|uid[:group|gid]").optional(),
  /** A terminal (pty): stdout and stderr are one stream, the command's controlling terminal. */
  tty: z.boolean().default(false),
  rows: dim("rows").default(24),
  cols: dim("cols").default(80),
  /** The session's longest life; the command is killed then. */
  timeout_sec: z.number().int().min(1).max(VM_EXEC_SESSION_MAX_SEC, `at most ${VM_EXEC_SESSION_MAX_SEC} s`).default(VM_EXEC_SESSION_MAX_SEC),
}).refine((r) => r.argv.reduce((n, a) => n + a.length + 1, 0) + Object.entries(r.env ?? {}).reduce((n, [k, v]) => n + k.length + v.length + 2, 0) <= 60_000,
  "the command and its env are at most 60000 bytes");

export const vmExecSessionSchema = z.object({ session: z.string().regex(/^[0-9a-f]{32}$/, "a session id (32 hex digits)") });

export const vmExecIoRequestSchema = vmExecSessionSchema.extend({
  /** Bytes for the command's stdin (base64); the answer says how many were taken (`stdin_taken`). */
  stdin: b64(VM_EXEC_IO_STDIN_MAX, "stdin").optional(),
  /** After this call's stdin: EOF on a pipe, ^D on a terminal. */
  eof: z.boolean().optional(),
  resize: z.object({ rows: dim("rows"), cols: dim("cols") }).optional(),
  /** A signal (1-64) to the command's process group. */
  signal: z.number().int().min(1, "a signal number 1-64").max(64, "a signal number 1-64").optional(),
  /** Ends the session (the command is killed if it still runs). */
  close: z.boolean().optional(),
  /** How long to wait for output when there is none yet. */
  wait_ms: z.number().int().min(0).max(VM_EXEC_IO_WAIT_MAX_MS, `at most ${VM_EXEC_IO_WAIT_MAX_MS} ms`).default(5000),
});

export interface VmExecExit {
  exit_code: number | null;
  signal: number | null;
  timed_out: boolean;
  /** Why the node ended it, when it did (idle, output not read, closed, the VM stopped). */
  reason: string;
}

export interface VmExecIoAnswer {
  output: Array<{ stream: "stdout" | "stderr"; data: string }>;
  /** Bytes of this call's stdin the command's buffer took (send the rest again). */
  stdin_taken: number;
  /** Set once the command ended and all its output was handed out; the session is gone then. */
  exit?: VmExecExit;
}

export const vmExecOpenAnswerSchema = vmExecSessionSchema;
export const vmExecIoAnswerSchema = z.object({
  output: z.array(z.object({ stream: z.enum(["stdout", "stderr"]), data: b64(VM_EXEC_IO_OUTPUT_MAX, "output") })).max(4096),
  stdin_taken: z.number().int().min(0).max(VM_EXEC_IO_STDIN_MAX),
  exit: z.object({ exit_code: z.number().int().min(0).max(255).nullable(), signal: z.number().int().min(1).max(64).nullable(), timed_out: z.boolean(), reason: z.string().max(500) }).optional(),
});
