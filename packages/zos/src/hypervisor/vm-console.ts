/**
 * The VM console (ttyS0) log on the host: each start appends a `zgrid-host: qemu start` line, so
 * waits only look at the output of the current boot. The log is capped at ~1 MiB across restarts.
 *
 * @example
 * ```ts
 * await markConsoleStart(log, "qemu start (tcg)");
 * await waitForConsole(log, /ready/, 30_000);
 * ```
 */
import { copyFile, open, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { VmStartError, VmStateError } from "./errors.ts";

const START_MARK = "zgrid-host: qemu start";
const CONSOLE_LOG_MAX = 1 << 20;

/** Console output since the last start mark. */
export async function currentBootOutput(consoleLog: string): Promise<string> {
  const text = await readFile(consoleLog, "utf8").catch(() => "");
  return text.slice(Math.max(0, text.lastIndexOf(START_MARK)));
}

/** Appends a start mark (`what` should begin with "qemu start"); truncates a log over the cap. */
export async function markConsoleStart(consoleLog: string, what: string): Promise<void> {
  const size = await stat(consoleLog).then((s) => s.size, () => 0);
  if (size > CONSOLE_LOG_MAX) {
    const tail = (await readFile(consoleLog)).subarray(size - CONSOLE_LOG_MAX / 4);
    await writeFile(consoleLog, Buffer.concat([Buffer.from("[console log truncated]\n"), tail]));
  }
  await writeFile(consoleLog, `\nzgrid-host: ${what} at ${new Date().toISOString()}\n`, { flag: "a" });
}

/**
 * Rotates a console log over `maxBytes`: its content moves to `<log>.1` (replacing the older copy)
 * and the log is truncated in place. QEMU keeps writing to it (its chardev opens with O_APPEND), so
 * a chatty guest holds at most ~2 × `maxBytes` on disk. Returns whether it rotated.
 */
export async function rotateConsole(consoleLog: string, maxBytes: number): Promise<boolean> {
  const size = await stat(consoleLog).then((s) => s.size, () => 0);
  if (size <= maxBytes) return false;
  await copyFile(consoleLog, `${consoleLog}.1`);
  await truncate(consoleLog, 0);
  await writeFile(consoleLog, `zgrid-host: console rotated at ${new Date().toISOString()} (older output in console.log.1)\n`, { flag: "a" });
  return true;
}

/** Last `bytes` of the console log. */
export async function consoleTail(consoleLog: string, bytes = 4096): Promise<string> {
  const fh = await open(consoleLog, "r").catch(() => undefined);
  if (!fh) return "";
  try {
    const { size } = await fh.stat();
    const len = Math.min(bytes, size);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

/** Polls until the current boot's output matches `pattern`; throws VmStateError on timeout. */
export async function waitForConsole(consoleLog: string, pattern: RegExp, timeoutMs: number, id = ""): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const since = await currentBootOutput(consoleLog);
    const m = since.match(pattern);
    if (m) return m;
    if (Date.now() > deadline) {
      throw new VmStateError(`vm ${id} console did not show ${pattern} within ${timeoutMs} ms`, { details: { id, consoleTail: since.slice(-2000) } });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until the guest init logs `zgrid-init: exec`; fails fast on `FATAL` or when `alive()` turns false. */
export async function waitForEntrypoint(consoleLog: string, alive: () => boolean, timeoutMs: number, id = ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const since = await currentBootOutput(consoleLog);
    if (/zgrid-init: exec /.test(since)) return;
    const fatal = /zgrid-init: FATAL: (.*)/.exec(since);
    const dead = !alive();
    if (fatal || dead || Date.now() > deadline) {
      const why = fatal ? fatal[1]!.trim() : dead ? "qemu exited before the entrypoint ran" : `entrypoint not reached within ${timeoutMs} ms`;
      throw new VmStartError(`vm ${id}: ${why}`, { details: { id, consoleTail: since.slice(-2000) } });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
