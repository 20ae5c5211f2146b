/**
 * The image config an flist records (its `zgrid.entrypoint` tag, `Startup` of @zgrid/flist) as the
 * defaults of a zmachine's image fields. Flists converted before issue 15 carry only name + args
 * (Entrypoint and Cmd joined), env and dir; newer ones carry Entrypoint and Cmd apart, User,
 * StopSignal and Healthcheck. The tag is signed content but still checked here: a value that is
 * not of the expected shape is ignored (the zmachine's own fields or zgrid's defaults apply).
 *
 * @example
 * ```ts
 * imageDefaults({ name: "python3", args: ["app.py"], env: {}, dir: "/app", entrypoint: [], cmd: ["python3", "app.py"] });
 * // { argv: ["python3", "app.py"], entrypoint: [], cmd: ["python3", "app.py"], dir: "/app" }
 * ```
 */
import type { Startup } from "@zgrid/flist";
import type { ImageDefaults } from "@zgrid/types";

const strings = (v: unknown, max = 256): string[] | undefined =>
  Array.isArray(v) && v.length <= max && v.every((s) => typeof s === "string" && s.length <= 4096 && !s.includes("\0")) ? (v as string[]) : undefined;
const text = (v: unknown, re: RegExp): string | undefined => (typeof v === "string" && re.test(v) ? v : undefined);

export function imageDefaults(startup: Startup | undefined): ImageDefaults {
  if (!startup || typeof startup !== "object") return {};
  const out: ImageDefaults = {};
  const argv = strings([startup.name, ...(Array.isArray(startup.args) ? startup.args : [])]);
  if (argv && typeof startup.name === "string" && startup.name !== "") out.argv = argv;
  const entrypoint = strings(startup.entrypoint);
  const cmd = strings(startup.cmd);
  if (entrypoint && cmd) {
    out.entrypoint = entrypoint;
    out.cmd = cmd;
  }
  const dir = text(startup.dir, /^\/[^\0\n]{0,4095}$/);
  if (dir) out.dir = dir;
  const user = text(startup.user, /^[^\0\n\s:]{1,64}(:[^\0\n\s:]{1,64})?$/);
  if (user) out.user = user;
  const sig = text(startup.stopSignal, /^[A-Za-z0-9+]{1,16}$/);
  if (sig) out.stopSignal = sig;
  const health = healthcheckOf(startup.healthcheck);
  if (health) out.healthcheck = health;
  return out;
}

/** The image's HEALTHCHECK (as convert recorded it), when well-formed; the VM spec clamps the values. */
function healthcheckOf(h: unknown): ImageDefaults["healthcheck"] {
  if (!h || typeof h !== "object") return undefined;
  const x = h as Record<string, unknown>;
  const test = strings(x.test, 64);
  const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1e7 ? v : undefined);
  const [intervalSec, timeoutSec, retries, startPeriodSec] = [num(x.intervalSec), num(x.timeoutSec), num(x.retries), num(x.startPeriodSec)];
  if (!test || test.length === 0 || intervalSec === undefined || timeoutSec === undefined || retries === undefined || startPeriodSec === undefined) return undefined;
  return { test, intervalSec, timeoutSec, retries: Math.floor(retries), startPeriodSec };
}
