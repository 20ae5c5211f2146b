/**
 * How the CLI talks: results on stdout (a table/lines, or JSON with --json), progress on stderr,
 * errors as "error: …" + "hint: …" (or a JSON `{ "error": … }` with --json) and a meaningful exit code.
 *
 * @example
 * ```ts
 * const io = createOutput({ json: true });
 * io.result(vms, () => table(vms, ["name", "state", "ip"]));
 * ```
 */

export interface Output {
  json: boolean;
  progress(message: string): void;
  result(value: unknown, human: () => string): void;
}

export function createOutput(o: { json: boolean; quiet?: boolean }): Output {
  return {
    json: o.json,
    progress(message) {
      if (!o.quiet) process.stderr.write(`… ${message}\n`);
    },
    result(value, human) {
      process.stdout.write(o.json ? JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n" : human() + "\n");
    },
  };
}

/** Exit codes (README): 0 ok, 1 other failure, 2 bad input, 3 not found, 4 no capacity, 5 no funds, 6 deploy failed (rolled back), 7 local grid not running, 130 interrupted (rolled back). */
export function exitCodeOf(e: unknown): number {
  const c = (e as { exitCode?: unknown }).exitCode;
  return typeof c === "number" ? c : 1;
}

/** Writes the error for the user; loads @zgrid/types/core only now, so a command that succeeds never pays for it. */
export async function reportError(e: unknown, json: boolean): Promise<void> {
  const { BaseError } = await import("@zgrid/types/core");
  if (json) {
    const err = e instanceof BaseError ? e.toJSON() : { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
    process.stdout.write(JSON.stringify({ error: err }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) + "\n");
    return;
  }
  if (e instanceof BaseError) {
    process.stderr.write(`error: ${e.shortMessage}\n${e.hint ? `hint: ${e.hint}\n` : ""}`);
  } else {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

/** A plain text table with a header row. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => String(r[c] ?? "")))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
