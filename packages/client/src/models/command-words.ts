/**
 * A command (`--entrypoint`, `--cmd`, a spec's or a compose file's `entrypoint` / `command`) as the
 * argv of Docker's exec form: a JSON array (`["sh","-c","cd /app && exec app"]`), an array, or shell
 * words with quoting (`sh -c "cd /app && exec app"`), split by `shell-quote` the way a POSIX shell
 * splits words. Variables stay as written (`$X` is for the VM's shell, not this machine's); shell
 * operators outside quotes (`&&`, `|`, `>`, `;`) are refused: they need `sh -c '…'`.
 *
 * @example
 * ```ts
 * commandWords(`sh -c "cd /app && exec python3 server.py"`); // ["sh", "-c", "cd /app && exec python3 server.py"]
 * commandWords('["python3", "server.py"]');                  // ["python3", "server.py"]
 * commandWords("");                                          // []
 * ```
 */
import { parse } from "shell-quote";
import { InputError } from "../errors/client-errors.ts";

/** At most this many words and characters per word (the node's own bounds). */
export const MAX_WORDS = 256;
export const MAX_WORD = 4096;

export function commandWords(input: string | readonly string[], what = "command"): string[] {
  const words = typeof input === "string" ? fromText(input, what) : [...input];
  if (words.length > MAX_WORDS) throw new InputError(`${what}: ${words.length} words, at most ${MAX_WORDS}`, { hint: "put a long command in a script inside the image" });
  for (const w of words) {
    if (typeof w !== "string") throw new InputError(`${what}: every word must be a string`, { hint: 'write it as ["prog", "arg"]' });
    if (w.length > MAX_WORD) throw new InputError(`${what}: a word of ${w.length} characters, at most ${MAX_WORD}`);
    if (w.includes("\0")) throw new InputError(`${what}: a word holds a NUL byte`);
  }
  return words;
}

function fromText(text: string, what: string): string[] {
  const t = text.trim();
  if (t === "") return [];
  if (t.startsWith("[")) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new InputError(`${what}: not a JSON array: ${(e as Error).message}`, { hint: 'write ["prog", "arg"] or shell words like: prog "an arg"' });
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new InputError(`${what}: a JSON array of strings is expected`, { hint: 'e.g. ["python3", "server.py"]' });
    return v as string[];
  }
  if (t.length > MAX_WORDS * MAX_WORD) throw new InputError(`${what}: too long (${t.length} characters)`);
  const out: string[] = [];
  for (const tok of parse(t, (key) => `\${${key}}`)) {
    if (typeof tok === "string") out.push(tok);
    else if ("op" in tok && tok.op === "glob") out.push(tok.pattern);
    else if ("comment" in tok) break;
    else {
      const op = "op" in tok ? tok.op : "?";
      throw new InputError(`${what}: shell operator '${op}' outside quotes: ${text}`, { hint: `run it through a shell: sh -c '${t.replace(/'/g, "'\\''")}'` });
    }
  }
  return out;
}
