/**
 * Per-twin upload quota of the hub, persisted in an embedded SQLite database
 * (`<dataDir>/quota.db`, node:sqlite — the same engine the hub reads listings with), so a hub
 * restart does not hand every twin a fresh quota (issue 12).
 *
 * `charge` checks and adds in one statement (atomic, durable before the block is written); a
 * block that then fails to be stored is given back with `refund`. A SIGKILL between the charge
 * and the write over-counts at most the blocks in flight, never under-counts.
 *
 * @example
 * ```ts
 * const quota = openHubQuota(join(dataDir, "quota.db"), 64 * 2 ** 30);
 * if (!quota.charge(twin, body.length)) throw new Error("over quota");
 * try { await store.set(id, body); } catch (e) { quota.refund(twin, body.length); throw e; }
 * quota.used(twin); // bytes charged so far
 * quota.close();
 * ```
 */
import { DatabaseSync } from "node:sqlite";

export interface HubQuota {
  /** Adds `bytes` to the twin's usage when it stays within the quota; false (nothing added) otherwise. */
  charge(twin: string, bytes: number): boolean;
  /** Gives back bytes charged for a block that was not stored. */
  refund(twin: string, bytes: number): void;
  /** Bytes charged to the twin (0 when it never uploaded). */
  used(twin: string): number;
  readonly max: number;
  close(): void;
}

export function openHubQuota(path: string, max: number): HubQuota {
  const db = new DatabaseSync(path);
  db.exec("pragma journal_mode = wal; pragma synchronous = normal; create table if not exists usage (twin text primary key, bytes integer not null)");
  const insert = db.prepare("insert into usage (twin, bytes) values (?, 0) on conflict (twin) do nothing");
  const add = db.prepare("update usage set bytes = bytes + ? where twin = ? and bytes + ? <= ?");
  const sub = db.prepare("update usage set bytes = max(0, bytes - ?) where twin = ?");
  const get = db.prepare("select bytes from usage where twin = ?");
  const key = (twin: string): string => twin.toLowerCase();
  let open = true;
  return {
    max,
    charge(twin, bytes) {
      insert.run(key(twin));
      return Number(add.run(bytes, key(twin), bytes, max).changes) === 1;
    },
    refund(twin, bytes) {
      sub.run(bytes, key(twin));
    },
    used(twin) {
      const row = get.get(key(twin)) as { bytes?: number | bigint } | undefined;
      return Number(row?.bytes ?? 0);
    },
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
