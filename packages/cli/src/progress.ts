/**
 * Progress of long image work (convert, push) for people and programs: a progress bar per phase on
 * a terminal (cli-progress), one JSON line per event on stderr with --json, short plain lines
 * otherwise (a log file, CI).
 *
 * @example
 * ```ts
 * const bar = progressReporter(io, opts.json);
 * await pushFlist({ …, onProgress: (e) => bar.event(e) });
 * bar.done();
 * ```
 */
import { SingleBar, Presets } from "cli-progress";
import type { Output } from "./output.ts";

export interface ProgressEvent { phase: string; [k: string]: unknown }

export interface ProgressReporter {
  event(e: ProgressEvent): void;
  done(): void;
}

/** Which bar an event moves, and where: [label, value, total] (undefined: a plain message). */
function barOf(e: ProgressEvent): [string, number, number] | undefined {
  if (e.phase === "layer") return ["layers", Number(e.index), Number(e.of)];
  if (e.phase === "block") return ["upload", Number(e.uploaded), Number(e.of)];
  return undefined;
}

function describe(e: ProgressEvent): string {
  switch (e.phase) {
    case "fetch": return `reading ${String(e.source)}`;
    case "manifest": return "reading the manifest";
    case "blob": return `pulled ${String(e.digest).slice(7, 19)} (${Math.round(Number(e.bytes) / 1024)} KiB)`;
    case "layer": return `applying layer ${String(e.index)}/${String(e.of)}`;
    case "pack": return "packing the flist";
    case "done": return `packed ${String(e.files)} files`;
    case "check": return `asking the hub which of ${String(e.blocks)} blocks it lacks`;
    case "upload": return `${String(e.missing)} of ${String(e.blocks)} blocks to upload`;
    case "block": return `uploaded ${String(e.uploaded)}/${String(e.of)} blocks`;
    default: return e.phase;
  }
}

export function progressReporter(io: Output, json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (json) return { event: (e) => void stream.write(`${JSON.stringify(e)}\n`), done: () => undefined };
  if (!stream.isTTY) {
    return {
      // every block would be a line: only each tenth and the last
      event: (e) => { if (e.phase !== "block" || Number(e.uploaded) % 10 === 0 || e.uploaded === e.of) io.progress(describe(e)); },
      done: () => undefined,
    };
  }
  let bar: SingleBar | undefined;
  let label = "";
  const stop = () => {
    bar?.stop();
    bar = undefined;
    label = "";
  };
  return {
    event(e) {
      const b = barOf(e);
      if (!b) {
        stop();
        io.progress(describe(e));
        return;
      }
      const [name, value, total] = b;
      if (label !== name) {
        stop();
        label = name;
        bar = new SingleBar({ format: `  ${name.padEnd(7)} [{bar}] {value}/{total}`, stream, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
        bar.start(total, 0);
      }
      bar!.update(value);
    },
    done: stop,
  };
}
