/**
 * Per-twin upload quota of the hub, persisted in an embedded SQLite database
 * (`<dataDir>/quota.db`, node:sqlite — the same engine the hub reads listings with), so a hub
 * restart does not hand every twin a fresh quota (issue 12).
 *
 * Crash-consistent: `charge` checks and adds the bytes AND records the charge as pending (block
 * id, twin, bytes) in one transaction, before the block is written. Once the block is stored the
 * charge is `settle`d (the record goes, the bytes stay); a block that failed to be stored is
 * `refund`ed (bytes and record go, in one transaction). A hub SIGKILLed between the charge and
 * the write leaves a pending record: `recover`, run at start before any request, keeps the
 * charges whose block is in the store and gives back the others. Usage never over- or
 * under-counts what the store holds.
 *
 * @example
 * ```ts
 * const quota = openHubQuota(join(dataDir, "quota.db"), 64 * 2 ** 30);
 * quota.recover((block) => store.pathOf(Buffer.from(block, "hex")) !== undefined);
 * const charge = quota.charge(twin, body.length, idHex);
 * if (charge === undefined) throw new Error("over quota");
 * try { await store.set(id, body); } catch (e) { quota.refund(charge); throw e; }
 * quota.settle(charge);
 * quota.used(twin); // bytes charged so far
 * quota.close();
 * ```
 */
import { DatabaseSync } from "node:sqlite";

/** A charge recorded but not yet settled (its block is being written). */
export type QuotaCharge = number;

export interface HubQuota {
  /**
   * Adds `bytes` to the twin's usage when it stays within the quota and records the charge for
   * `block` as pending, atomically; undefined (nothing added) when over the quota.
   */
  charge(twin: string, bytes: number, block: string): QuotaCharge | undefined;
  /** The block was stored: the charge stays, its pending record goes. */
  settle(charge: QuotaCharge): void;
  /** The block was not stored: gives back its bytes. */
  refund(charge: QuotaCharge): void;
  /**
   * Settles the pending charges of a hub that died mid-write: kept when `stored(block)`, given
   * back otherwise. Call at start, before serving. Returns the blocks of each outcome.
   */
  recover(stored: (block: string) => boolean): { kept: string[]; refunded: string[] };
  /** Bytes charged to the twin (0 when it never uploaded). */
  used(twin: string): number;
  readonly max: number;
  close(): void;
}

export function openHubQuota(path: string, max: number): HubQuota {
  const db = new DatabaseSync(path);
  db.exec(`pragma journal_mode = wal; pragma synchronous = normal;
    create table if not exists usage (twin text primary key, bytes integer not null);
    create table if not exists pending (id integer primary key autoincrement, twin text not null, bytes integer not null, block text not null)`);
  const insert = db.prepare("insert into usage (twin, bytes) values (?, 0) on conflict (twin) do nothing");
  const add = db.prepare("update usage set bytes = bytes + ? where twin = ? and bytes + ? <= ?");
  const sub = db.prepare("update usage set bytes = max(0, bytes - ?) where twin = ?");
  const get = db.prepare("select bytes from usage where twin = ?");
  const record = db.prepare("insert into pending (twin, bytes, block) values (?, ?, ?)");
  const pendingOne = db.prepare("select twin, bytes, block from pending where id = ?");
  const pendingAll = db.prepare("select id, twin, bytes, block from pending order by id");
  const drop = db.prepare("delete from pending where id = ?");
  const key = (twin: string): string => twin.toLowerCase();
  type Pending = { id?: number | bigint; twin: string; bytes: number | bigint; block: string };
  const transaction = <T>(fn: () => T): T => {
    db.exec("begin immediate");
    try {
      const r = fn();
      db.exec("commit");
      return r;
    } catch (e) {
      db.exec("rollback");
      throw e;
    }
  };
  const giveBack = (id: number | bigint, p: Pending) => {
    sub.run(Number(p.bytes), p.twin);
    drop.run(id);
  };
  let open = true;
  return {
    max,
    charge(twin, bytes, block) {
      return transaction(() => {
        insert.run(key(twin));
        if (Number(add.run(bytes, key(twin), bytes, max).changes) !== 1) return undefined;
        return Number(record.run(key(twin), bytes, block).lastInsertRowid);
      });
    },
    settle(charge) {
      drop.run(charge);
    },
    refund(charge) {
      transaction(() => {
        const p = pendingOne.get(charge) as Pending | undefined;
        if (p) giveBack(charge, p);
      });
    },
    recover(stored) {
      const kept: string[] = [];
      const refunded: string[] = [];
      transaction(() => {
        for (const p of pendingAll.all() as Pending[]) {
          if (stored(p.block)) {
            drop.run(p.id!);
            kept.push(p.block);
          } else {
            giveBack(p.id!, p);
            refunded.push(p.block);
          }
        }
      });
      return { kept, refunded };
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
