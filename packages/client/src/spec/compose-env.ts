/**
 * Compose's variables: `.env` / `env_file` files (KEY=VALUE lines) and interpolation of `$VAR`,
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}` and `$$` in every string of a
 * compose file, the way `docker compose` does before it reads the file.
 *
 * @example
 * ```ts
 * interpolate("postgres://${DB_USER:-app}@db", { DB_USER: "shop" }); // "postgres://shop@db"
 * parseEnvFile("A=1\n# c\nB='two words'\n");                          // { A: "1", B: "two words" }
 * ```
 */
import { InputError } from "../errors/client-errors.ts";

const VAR = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export function interpolate(text: string, env: Record<string, string | undefined>, where = ""): string {
  return text.replace(VAR, (all, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (all === "$$") return "$";
    const name = braced ?? bare!;
    const value = env[name];
    const empty = value === undefined || (op?.startsWith(":") && value === "");
    if (op?.endsWith("-")) return empty ? (arg ?? "") : value!;
    if (op?.endsWith("?")) {
      if (empty) throw new InputError(`${where}: variable ${name} is required: ${arg || "not set"}`, { hint: `set ${name} in the environment or in .env next to the compose file` });
      return value!;
    }
    return value ?? "";
  });
}

/** Every string in a parsed YAML value, interpolated (keys are left as they are). */
export function interpolateAll(v: unknown, env: Record<string, string | undefined>, path = ""): unknown {
  if (typeof v === "string") return interpolate(v, env, path);
  if (Array.isArray(v)) return v.map((x, i) => interpolateAll(x, env, `${path}.${i}`));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x, env, path ? `${path}.${k}` : k)]));
  return v;
}

/** KEY=VALUE lines; `#` comments and blank lines skipped; single or double quotes removed. */
export function parseEnvFile(text: string, file = ".env"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new InputError(`${file}:${i + 1}: not KEY=VALUE: ${line.slice(0, 80)}`, { hint: "write one KEY=VALUE per line" });
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, "");
    out[m[1]!] = q === '"' ? value.replace(/\\n/g, "\n").replace(/\\"/g, '"') : value;
  }
  return out;
}
