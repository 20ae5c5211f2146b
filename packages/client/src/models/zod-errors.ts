/**
 * Turns zod issues into one InputError naming the field ("vm 'web': memory: Too small: expected ≥ 250").
 *
 * @example
 * ```ts
 * const r = schema.safeParse(x); if (!r.success) throw zodToInputError(r.error, "vm 'web'");
 * ```
 */
import type { z } from "zod";
import { InputError } from "../errors/client-errors.ts";

export function zodToInputError(error: z.ZodError, what: string): InputError {
  const issues = error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  return new InputError(`${what}: ${issues.join("; ")}`, { details: { issues }, hint: "fix the field named and try again" });
}
