/**
 * Changes tags and routes of an existing `.fl` file safely: the edit happens on a copy that
 * replaces the original only when complete.
 *
 * @example
 * ```ts
 * editFlist("a.fl", { setTags: { description: "alpine 3.20" }, removeTags: ["author"] });
 * ```
 */
import { copyFileSync, renameSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { FlistReader } from "./flist-reader.ts";
import type { FlistRoute } from "./schema.ts";

export interface FlistEdit {
  setTags?: Record<string, string>;
  removeTags?: string[];
  /** Replaces the whole route table. */
  routes?: FlistRoute[];
}

export function editFlist(path: string, edit: FlistEdit, output: string = path): void {
  FlistReader.open(path).close(); // refuse to edit a damaged file
  const partial = `${output}.partial`;
  copyFileSync(path, partial);
  try {
    const db = new DatabaseSync(partial);
    try {
      db.exec("BEGIN");
      for (const k of edit.removeTags ?? []) db.prepare("delete from tag where key = ?").run(k);
      for (const [k, v] of Object.entries(edit.setTags ?? {})) db.prepare("insert or replace into tag (key, value) values (?, ?)").run(k, v);
      if (edit.routes) {
        db.exec("delete from route");
        for (const r of edit.routes) db.prepare("insert into route (start, end, url) values (?, ?, ?)").run(r.start, r.end, r.url);
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
    renameSync(partial, output);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}
