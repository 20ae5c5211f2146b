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
}

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
  return { name: all[0] ?? "/bin/sh", args: all.slice(1), env, dir: c.WorkingDir || "/" };
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
