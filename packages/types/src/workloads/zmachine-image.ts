/**
 * Docker/OCI image semantics of a zmachine (issue 15): Entrypoint/Cmd in exec form, WorkingDir,
 * User, restart policy, HEALTHCHECK, StopSignal. Absent fields take the image's values, which the
 * flist records at conversion (the `zgrid.entrypoint` tag, `Startup` in @zgrid/flist).
 *
 * @example
 * ```ts
 * resolveArgv({ entrypoint: "", cmd: ["server.py"] }, { entrypoint: ["python3"], cmd: ["app.py"] });
 * // ["python3", "server.py"]
 * parseRestart("on-failure:3"); // { policy: "on-failure", maxRetries: 3 }
 * ```
 */
import { z } from "zod";
import type { Encoder } from "../encoding/encoder.ts";
import type { ReportIssue } from "./workload-type.ts";
import { isCleanAbsolutePath } from "./common.ts";

const arg = z.string().max(4096);
/** argv in exec form: at most 256 words. */
export const argvSchema = z.array(arg).max(256);

export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

export const restartSchema = z.strictObject({
  policy: z.enum(RESTART_POLICIES),
  /** on-failure only: restarts after which the VM stays stopped (Docker's `on-failure:N`). */
  maxRetries: z.number().int().optional(),
});
export type RestartPolicy = z.infer<typeof restartSchema>;

export const healthcheckSchema = z.strictObject({
  /** Docker form: ["CMD", argv…], ["CMD-SHELL", "command"] or ["NONE"]. */
  test: argvSchema,
  intervalSec: z.number().default(30),
  timeoutSec: z.number().default(30),
  retries: z.number().int().default(3),
  startPeriodSec: z.number().default(0),
});
export type Healthcheck = z.infer<typeof healthcheckSchema>;

/** The image-semantics fields of zmachine data (all optional: absent = the image's). */
export const imageFields = {
  /** Replaces the image's Entrypoint (exec form; the old string form is split on whitespace). Empty: the image's. */
  entrypoint: z.union([z.string().max(4096), argvSchema]).default(""),
  /** Replaces the image's Cmd (the arguments after the entrypoint). */
  cmd: argvSchema.optional(),
  /** Working directory of the app (absolute); default the image's WorkingDir, else /. */
  workdir: z.string().max(4096).optional(),
  /** `name`, `uid`, `name:group` or `uid:gid`, resolved in the image's /etc/passwd and /etc/group. */
  user: z.string().max(256).optional(),
  restart: restartSchema.optional(),
  healthcheck: healthcheckSchema.optional(),
  /** Signal that stops the app: SIGTERM (default), TERM or a number 1–64. */
  stopSignal: z.string().max(16).optional(),
};

/** What an image records (`Startup` of @zgrid/flist, the fields this module uses). */
export interface ImageDefaults {
  entrypoint?: string[];
  cmd?: string[];
  /** name + args as one argv, for flists converted before Entrypoint/Cmd were recorded apart. */
  argv?: string[];
  dir?: string;
  user?: string;
  stopSignal?: string;
  healthcheck?: Healthcheck;
}

interface ImageData {
  entrypoint: string | string[];
  cmd?: string[] | undefined;
}

/** The entrypoint the workload sets, as argv (undefined: the image's). */
export function entrypointArgv(entrypoint: string | string[]): string[] | undefined {
  if (Array.isArray(entrypoint)) return entrypoint.length > 0 ? entrypoint : undefined;
  const words = entrypoint.trim().split(/\s+/).filter(Boolean);
  return words.length > 0 ? words : undefined;
}

/**
 * The app's argv as Docker builds it: an overridden entrypoint drops the image's Cmd unless `cmd`
 * is given too; `cmd` alone keeps the image's Entrypoint.
 */
export function resolveArgv(d: ImageData, image: ImageDefaults): string[] {
  const ep = entrypointArgv(d.entrypoint);
  if (ep) return [...ep, ...(d.cmd ?? [])];
  if (image.entrypoint !== undefined || image.cmd !== undefined) return [...(image.entrypoint ?? []), ...(d.cmd ?? image.cmd ?? [])];
  if (d.cmd && d.cmd.length > 0) return d.cmd;
  return image.argv ?? [];
}

const SIGNALS = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
  "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"];

/**
 * A signal name or number as its number (Linux x86_64), undefined when unknown.
 *
 * @example
 * ```ts
 * signalNumber("SIGQUIT"); // 3
 * signalNumber("TERM"); // 15
 * ```
 */
export function signalNumber(s: string): number | undefined {
  if (/^\d{1,2}$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const name = s.toUpperCase().replace(/^SIG/, "");
  const i = SIGNALS.indexOf(name);
  if (i >= 0) return i + 1;
  const rt = /^RTMIN(?:\+(\d{1,2}))?$/.exec(name);
  if (rt) {
    const n = 34 + Number(rt[1] ?? 0);
    return n <= 64 ? n : undefined;
  }
  return undefined;
}

/** `name`, `uid`, `name:group`, `uid:gid` (names as useradd allows them). */
const USER = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})(?::(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|\d{1,10}))?$/;

/**
 * Parses Docker's restart policy text: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
 * Throws a RangeError naming the accepted forms.
 */
export function parseRestart(text: string): RestartPolicy {
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d{1,4}))?$/.exec(text.trim());
  if (!m || (m[2] !== undefined && m[1] !== "on-failure")) {
    throw new RangeError(`restart policy '${text}': use no, always, unless-stopped or on-failure[:N]`);
  }
  return m[2] !== undefined ? { policy: "on-failure", maxRetries: Number(m[2]) } : { policy: m[1] as RestartPolicyName };
}

type WithImage = ImageData & {
  workdir?: string | undefined;
  user?: string | undefined;
  restart?: RestartPolicy | undefined;
  healthcheck?: Healthcheck | undefined;
  stopSignal?: string | undefined;
};

/** Rules of the image fields beyond their structure. */
export function validateImageFields(d: WithImage, report: ReportIssue): void {
  const argv = [...(Array.isArray(d.entrypoint) ? d.entrypoint : [d.entrypoint]), ...(d.cmd ?? [])];
  if (argv.some((a) => a.includes("\0"))) report(d.cmd?.some((a) => a.includes("\0")) ? "cmd" : "entrypoint", argv, "words without NUL bytes");
  if (Array.isArray(d.entrypoint) && d.entrypoint.length > 0 && d.entrypoint[0] === "") report("entrypoint.0", "", "a program name or path");
  if (d.workdir !== undefined && !isCleanAbsolutePath(d.workdir)) report("workdir", d.workdir, "an absolute path without . or .. segments, e.g. /app");
  if (d.user !== undefined && !USER.test(d.user)) report("user", d.user, "a user name or uid, optionally :group or :gid (e.g. app, 1000, 1000:1000, app:staff)");
  if (d.restart?.maxRetries !== undefined) {
    if (d.restart.policy !== "on-failure") report("restart.maxRetries", d.restart.maxRetries, "only with policy on-failure");
    else if (d.restart.maxRetries < 0 || d.restart.maxRetries > 10000) report("restart.maxRetries", d.restart.maxRetries, "0 to 10000 restarts");
  }
  if (d.stopSignal !== undefined && signalNumber(d.stopSignal) === undefined) report("stopSignal", d.stopSignal, "a signal name (SIGTERM, SIGQUIT, SIGINT, …) or number 1–64");
  const h = d.healthcheck;
  if (h) {
    const kind = h.test[0];
    if (kind === "CMD" || kind === "CMD-SHELL") {
      if (h.test.length < 2 || h.test[1] === "" || (kind === "CMD-SHELL" && h.test.length !== 2)) report("healthcheck.test", h.test, '["CMD", program, args…] or ["CMD-SHELL", "command"]');
    } else if (kind !== "NONE" || h.test.length !== 1) report("healthcheck.test", h.test, '["CMD", program, args…], ["CMD-SHELL", "command"] or ["NONE"]');
    if (h.test.some((a) => a.includes("\0"))) report("healthcheck.test", h.test, "words without NUL bytes");
    const secs = (field: string, v: number, min: number) => {
      if (!Number.isFinite(v) || v < min || v > 86400) report(`healthcheck.${field}`, v, `seconds from ${min} to 86400`);
    };
    secs("intervalSec", h.intervalSec, 1);
    secs("timeoutSec", h.timeoutSec, 1);
    secs("startPeriodSec", h.startPeriodSec, 0);
    if (h.retries < 1 || h.retries > 100) report("healthcheck.retries", h.retries, "an integer from 1 to 100");
  }
}

/**
 * The hash bytes of the image fields: nothing when all are absent (so deployments made before
 * issue 15 keep their hash), else a 1 byte and the fields. Unambiguous: the zmachine's bytes are
 * the last of its workload, followed by the end or the next workload's u64 version, whose first
 * byte is always 0 (safe integers are < 2^53). The string entrypoint keeps its older place.
 */
export function challengeImageFields(enc: Encoder, d: WithImage): void {
  const ext = Array.isArray(d.entrypoint) || d.cmd || d.workdir !== undefined || d.user !== undefined || d.restart || d.healthcheck || d.stopSignal !== undefined;
  if (!ext) return;
  enc.optional(d, (e, v) => {
    e.optional(Array.isArray(v.entrypoint) ? v.entrypoint : undefined, (e2, a) => e2.list(a, (e3, s) => e3.str(s)));
    e.optional(v.cmd, (e2, a) => e2.list(a, (e3, s) => e3.str(s)));
    e.optional(v.workdir, (e2, s) => e2.str(s));
    e.optional(v.user, (e2, s) => e2.str(s));
    e.optional(v.restart, (e2, r) => e2.str(r.policy).optional(r.maxRetries, (e3, n) => e3.str(String(n))));
    e.optional(v.healthcheck, (e2, h) => e2.list(h.test, (e3, s) => e3.str(s)).str(String(h.intervalSec)).str(String(h.timeoutSec)).str(String(h.retries)).str(String(h.startPeriodSec)));
    e.optional(v.stopSignal, (e2, s) => e2.str(s));
  });
}
