/**
 * Extended attributes through the `attr` tools (Node has no xattr API): one `getfattr -R` dump for
 * a whole tree when packing, one `setfattr --restore` when unpacking. Paths are raw bytes.
 *
 * @example
 * ```ts
 * const map = readTreeXattrs("/src");   // key: latin1 string of the absolute path bytes
 * restoreXattrs([{ path: Buffer.from("/dst/f"), xattrs: [{ name, value }] }]);
 * ```
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import type { FlistXattr } from "../format/schema.ts";

const log = createLogger("flist.xattrs");

function unquote(s: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === 0x5c && i + 3 < s.length + 0 && /^[0-7]{3}$/.test(s.subarray(i + 1, i + 4).toString("latin1"))) {
      out.push(parseInt(s.subarray(i + 1, i + 4).toString("latin1"), 8));
      i += 3;
    } else out.push(c);
  }
  return Buffer.from(out);
}

function quote(s: Buffer): Buffer {
  const out: number[] = [];
  for (const c of s) {
    if (c === 0x5c || c === 0x0a || c === 0x0d || c === 0x3d || c < 0x20) {
      out.push(0x5c, ...Buffer.from(c.toString(8).padStart(3, "0"), "latin1"));
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** All xattrs under `root` (absolute path), keyed by the latin1 string of each path's bytes. */
export function readTreeXattrs(root: string): Map<string, FlistXattr[]> {
  const map = new Map<string, FlistXattr[]>();
  const r = spawnSync("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", root], { maxBuffer: 1 << 30 });
  if (r.error) {
    log.warn({ err: r.error.message }, "getfattr unavailable: xattrs are not packed (install the attr package)");
    return map;
  }
  let current: string | undefined;
  let start = 0;
  const out = r.stdout;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const line = out.subarray(start, end);
    start = end + 1;
    if (line.subarray(0, 8).toString("latin1") === "# file: ") {
      current = unquote(line.subarray(8)).toString("latin1");
      continue;
    }
    const eq = line.indexOf(0x3d);
    if (current === undefined || eq <= 0) continue;
    const name = unquote(line.subarray(0, eq));
    const raw = line.subarray(eq + 1).toString("latin1");
    const value = raw.startsWith("0x") ? Buffer.from(raw.slice(2), "hex") : raw.startsWith('"') ? Buffer.from(raw.slice(1, -1), "latin1") : Buffer.alloc(0);
    const list = map.get(current) ?? [];
    list.push({ name, value });
    map.set(current, list);
  }
  return map;
}

/** Sets xattrs on many paths with one `setfattr --restore`. Throws when setfattr fails. */
export function restoreXattrs(entries: Array<{ path: Buffer; xattrs: FlistXattr[] }>): void {
  const withAttrs = entries.filter((e) => e.xattrs.length > 0);
  if (withAttrs.length === 0) return;
  const parts: Buffer[] = [];
  for (const e of withAttrs) {
    parts.push(Buffer.from("# file: "), quote(e.path), Buffer.from("\n"));
    for (const x of e.xattrs) parts.push(quote(x.name), Buffer.from(`=0x${x.value.toString("hex")}\n`));
    parts.push(Buffer.from("\n"));
  }
  const dir = mkdtempSync(join(tmpdir(), "zgrid-xattr-"));
  try {
    const dump = join(dir, "dump");
    writeFileSync(dump, Buffer.concat(parts));
    const r = spawnSync("setfattr", ["-h", `--restore=${dump}`]);
    if (r.error || r.status !== 0) throw new Error(`setfattr failed: ${r.error?.message ?? r.stderr.toString()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
