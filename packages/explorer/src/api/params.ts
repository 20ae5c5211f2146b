/**
 * Query-string validation for the REST API: every route names the parameters it takes, anything
 * else is refused, numbers are bounded integers, strings are short. Errors say what was wrong.
 */
import { BaseError } from "@zgrid/types";

export class BadRequestError extends BaseError {
  override readonly code = "BAD_REQUEST";
}

export type ParamSpec =
  | { kind: "int"; min?: number; max?: number }
  | { kind: "string"; max?: number; pattern?: RegExp }
  | { kind: "bool" }
  | { kind: "enum"; values: readonly string[] };

export const MAX_PAGE_SIZE = 100;
export const PAGING: Record<string, ParamSpec> = {
  page: { kind: "int", min: 1, max: 100_000 },
  size: { kind: "int", min: 1, max: MAX_PAGE_SIZE },
};

export type Params = Record<string, string | number | boolean | undefined>;

/** Parses `search` against `spec`; throws BadRequestError naming the first bad parameter. */
export function parseParams(search: URLSearchParams, spec: Record<string, ParamSpec>): Params {
  const out: Params = {};
  for (const key of new Set(search.keys())) {
    const s = spec[key];
    if (!s) throw new BadRequestError(`unknown query parameter '${key.slice(0, 40)}'`, { details: { allowed: Object.keys(spec) }, hint: `use one of: ${Object.keys(spec).join(", ")}` });
    const all = search.getAll(key);
    if (all.length > 1) throw new BadRequestError(`query parameter '${key}' is given ${all.length} times; give it once`);
    const raw = all[0]!;
    if (s.kind === "int") {
      const v = Number(raw);
      const min = s.min ?? 0, max = s.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(v) || v < min || v > max) {
        throw new BadRequestError(`'${key}' must be a whole number from ${min} to ${max}, got '${raw.slice(0, 40)}'`);
      }
      out[key] = v;
    } else if (s.kind === "bool") {
      if (raw !== "true" && raw !== "false") throw new BadRequestError(`'${key}' must be true or false, got '${raw.slice(0, 40)}'`);
      out[key] = raw === "true";
    } else if (s.kind === "enum") {
      if (!s.values.includes(raw)) throw new BadRequestError(`'${key}' must be one of ${s.values.join(", ")}, got '${raw.slice(0, 40)}'`);
      out[key] = raw;
    } else {
      const max = s.max ?? 64;
      if (raw.length > max) throw new BadRequestError(`'${key}' is longer than ${max} characters`);
      if (s.pattern && !s.pattern.test(raw)) throw new BadRequestError(`'${key}' has an unexpected format: '${raw.slice(0, 40)}'`);
      out[key] = raw;
    }
  }
  return out;
}

export function paging(p: Params): { limit: number; offset: number; page: number; size: number } {
  const size = (p.size as number | undefined) ?? 50;
  const page = (p.page as number | undefined) ?? 1;
  return { limit: size, offset: (page - 1) * size, page, size };
}
