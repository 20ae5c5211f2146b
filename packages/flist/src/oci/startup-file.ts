/**
 * The startup file of a converted image, as rfs writes it (`/.startup.toml`): the entrypoint
 * (Entrypoint + Cmd, else /bin/sh), env and working directory of the image config.
 *
 * @example
 * ```ts
 * const s = startupFromConfig(config); // { name: "/bin/app", args: ["--x"], env: {...}, dir: "/" }
 * writeFileSync(".startup.toml", startupToml(s));
 * ```
 */
import type { ImageConfig } from "./image-source.ts";

export interface Startup {
  name: string;
  args: string[];
  env: Record<string, string>;
  dir: string;
  /** The image's Entrypoint and Cmd apart (flists converted before issue 15 have only name + args). */
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  stopSignal?: string;
  exposedPorts?: string[];
  healthcheck?: { test: string[]; intervalSec: number; timeoutSec: number; retries: number; startPeriodSec: number };
}

const NS = 1e9;

export function startupFromConfig(config: ImageConfig): Startup {
  const c = config.config ?? {};
  const entry = c.Entrypoint ?? [];
  const cmd = c.Cmd ?? [];
  const all = [...entry, ...cmd];
  const env: Record<string, string> = {};
  for (const e of c.Env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  const s: Startup = { name: all[0] ?? "/bin/sh", args: all.slice(1), env, dir: c.WorkingDir || "/", entrypoint: entry, cmd };
  if (c.User) s.user = c.User;
  if (c.StopSignal) s.stopSignal = c.StopSignal;
  const ports = Object.keys(c.ExposedPorts ?? {});
  if (ports.length > 0) s.exposedPorts = ports;
  const h = c.Healthcheck;
  if (h?.Test && h.Test.length > 0) {
    // Docker's defaults: 30 s interval and timeout, 3 retries, no start period
    s.healthcheck = {
      test: h.Test, intervalSec: (h.Interval || 30 * NS) / NS, timeoutSec: (h.Timeout || 30 * NS) / NS,
      retries: h.Retries || 3, startPeriodSec: (h.StartPeriod || 0) / NS,
    };
  }
  return s;
}

// JSON string escapes are valid TOML basic-string escapes.
const str = (s: string): string => JSON.stringify(s);

/** TOML in the layout rfs produces (keys sorted). */
export function startupToml(s: Startup): string {
  const env = Object.keys(s.env).sort().map((k) => `${str(k)} = ${str(s.env[k]!)}`);
  return [
    "[startup.entry]",
    'name = "core.system"',
    "",
    "[startup.entry.args]",
    `args = [${s.args.map(str).join(", ")}]`,
    `dir = ${str(s.dir)}`,
    `name = ${str(s.name)}`,
    "",
    "[startup.entry.args.env]",
    ...env,
    "",
  ].join("\n");
}
