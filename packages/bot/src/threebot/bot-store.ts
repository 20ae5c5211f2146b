/**
 * The 3bot's own embedded database (node:sqlite, WAL, synchronous FULL): the desired state
 * (services), the replica generation counter, the journal of operations in flight (so a restart
 * after SIGKILL knows what it was doing), when each contract was first seen, and the event log
 * (heals, rollouts, cancels) `bot.events` answers. Records only gain fields.
 *
 * @example
 * ```ts
 * const store = openBotStore("/var/lib/zgrid/3bot.db");
 * store.putService(spec);
 * const op = store.beginOp({ service: "web", kind: "deploy", replica: "web_3", nodeId: 2, run });
 * store.finishOp(op, "done");
 * ```
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ServiceSpec } from "./service-spec.ts";

export interface BotOp {
  id: number;
  service: string;
  kind: "deploy" | "cancel" | "gateway" | "update";
  replica: string;
  nodeId: number;
  /** The process run that started it (a pending op of another run was interrupted). */
  run: string;
  state: "pending" | "done" | "failed";
  startedAt: number;
}

export interface BotEvent {
  id: number;
  at: number;
  service: string;
  kind: string;
  message: string;
}

/** The last completed backup of one disk of one replica (written only once its manifest is on the hub). */
export interface DiskBackupRecord {
  service: string;
  replica: string;
  disk: string;
  /** Hub id of the backup's sealed manifest (restore with it). */
  manifest: string;
  /** When the node took the snapshot: a restore brings the disk back to this instant. */
  takenAt: number;
  nodeId: number;
  size: number;
  uploadedBlocks: number;
}

/**
 * A heal's restore of one disk of a new replica from the lost (or failed) replica's last backup
 * (`heal-restore.ts`). `pending`: not written yet; `restored`: the disk holds the backup, the VM
 * not started yet; `done`: started, served again; `failed`: retries exhausted (kept out of service).
 */
export interface DiskRestoreRecord {
  service: string;
  /** The new replica whose disk is restored. */
  replica: string;
  disk: string;
  /** The replica it replaces (whose backup is restored). */
  source: string;
  manifest: string;
  /** When the backup's snapshot was taken (what the heal brings back). */
  takenAt: number;
  state: "pending" | "restored" | "done" | "failed";
  attempts: number;
  /** The last attempt's error ("" when none). */
  error: string;
  /** When the row was planned, and when the last attempt ended (ms). */
  createdAt: number;
  updatedAt: number;
}

/**
 * A replica of a service with disks updated in place (same contract and node, disks kept) from one
 * replica hash to another (`rolling-inplace.ts`). Written BEFORE the update is sent; dropped once the
 * replica is healthy at `to`. `rollback`: the update back to the previous version after `to` failed.
 */
export interface InPlaceRecord {
  contractId: number;
  service: string;
  replica: string;
  from: string;
  to: string;
  rollback: boolean;
  at: number;
}

export interface BotStore {
  services(): ServiceSpec[];
  /** Stores a service; the spec it replaces becomes its `previous` (for rollbacks) unless `keepPrevious`. */
  putService(s: ServiceSpec, o?: { keepPrevious?: boolean }): void;
  previousService(name: string): ServiceSpec | undefined;
  removeService(name: string): void;
  /** The next replica generation of a service (persisted before use: never reused). */
  nextGeneration(service: string): number;
  beginOp(o: Omit<BotOp, "id" | "state" | "startedAt">): number;
  finishOp(id: number, state: "done" | "failed"): void;
  pendingOps(): BotOp[];
  /** When the bot first saw a contract (kept for the orphan grace window). */
  firstSeen(contractId: number, now: number): number;
  event(e: Omit<BotEvent, "id" | "at">, at?: number): void;
  events(o?: { service?: string; limit?: number }): BotEvent[];
  /** The last status snapshot the running bot wrote (read by `zgrid bot status`). */
  putStatus(status: unknown): void;
  status(): { at: number; status: unknown } | undefined;
  /** Set by an apply from another process; the bot takes it on its next pass. */
  requestApply(): void;
  hasApplyRequest(): boolean;
  takeApplyRequest(): boolean;
  /** Records a completed disk backup (replaces the disk's previous record in one statement). */
  putBackup(r: DiskBackupRecord): void;
  lastBackup(service: string, replica: string, disk: string): DiskBackupRecord | undefined;
  backups(service?: string): DiskBackupRecord[];
  /** Plans a heal's disk restore (before the new replica is deployed: a crash cannot lose it). */
  planRestore(r: Omit<DiskRestoreRecord, "state" | "attempts" | "error" | "createdAt" | "updatedAt">, at?: number): void;
  setRestore(service: string, replica: string, disk: string, patch: Pick<DiskRestoreRecord, "state" | "attempts" | "error">, at?: number): void;
  restores(service?: string): DiskRestoreRecord[];
  dropRestores(service: string, replica: string): void;
  /** Records an in-place update before it is sent (replaces the contract's earlier record). */
  putInPlace(r: InPlaceRecord): void;
  inPlace(service?: string): InPlaceRecord[];
  dropInPlace(contractId: number): void;
  /** Restarts a contract's start window (an in-place update restarts its VM). */
  resetSeen(contractId: number, at: number): void;
  /** Drops the rows a removed service leaves (restores, in-place updates); returns how many. */
  dropServiceRows(service: string): number;
  close(): void;
}

const MAX_EVENTS = 2000;

export function openBotStore(path: string): BotStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    CREATE TABLE IF NOT EXISTS services (name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS previous (name TEXT PRIMARY KEY, spec TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS generations (service TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS ops (id INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, kind TEXT NOT NULL,
      replica TEXT NOT NULL, node INTEGER NOT NULL, run TEXT NOT NULL, state TEXT NOT NULL, started INTEGER NOT NULL, finished INTEGER);
    CREATE TABLE IF NOT EXISTS seen (contract INTEGER PRIMARY KEY, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS backups (service TEXT NOT NULL, replica TEXT NOT NULL, disk TEXT NOT NULL, manifest TEXT NOT NULL,
      taken INTEGER NOT NULL, node INTEGER NOT NULL, size INTEGER NOT NULL, uploaded INTEGER NOT NULL, PRIMARY KEY (service, replica, disk));
    CREATE TABLE IF NOT EXISTS restores (service TEXT NOT NULL, replica TEXT NOT NULL, disk TEXT NOT NULL, source TEXT NOT NULL, manifest TEXT NOT NULL,
      taken INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, error TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
      PRIMARY KEY (service, replica, disk));
    CREATE TABLE IF NOT EXISTS inplace (contract INTEGER PRIMARY KEY, service TEXT NOT NULL, replica TEXT NOT NULL, from_hash TEXT NOT NULL,
      to_hash TEXT NOT NULL, rollback INTEGER NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
  `);
  const q = {
    services: db.prepare("SELECT spec FROM services ORDER BY name"),
    putService: db.prepare("INSERT INTO services (name, spec, updated) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated"),
    removeService: db.prepare("DELETE FROM services WHERE name = ?"),
    getService: db.prepare("SELECT spec FROM services WHERE name = ?"),
    putPrevious: db.prepare("INSERT INTO previous (name, spec) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec"),
    getPrevious: db.prepare("SELECT spec FROM previous WHERE name = ?"),
    nextGen: db.prepare("INSERT INTO generations (service, value) VALUES (?, 1) ON CONFLICT (service) DO UPDATE SET value = value + 1 RETURNING value"),
    beginOp: db.prepare("INSERT INTO ops (service, kind, replica, node, run, state, started) VALUES (?, ?, ?, ?, ?, 'pending', ?) RETURNING id"),
    finishOp: db.prepare("UPDATE ops SET state = ?, finished = ? WHERE id = ?"),
    pending: db.prepare("SELECT id, service, kind, replica, node, run, state, started FROM ops WHERE state = 'pending' ORDER BY id"),
    trimOps: db.prepare("DELETE FROM ops WHERE state != 'pending' AND id < (SELECT MAX(id) FROM ops) - 1000"),
    seenInsert: db.prepare("INSERT INTO seen (contract, at) VALUES (?, ?) ON CONFLICT (contract) DO NOTHING"),
    seenGet: db.prepare("SELECT at FROM seen WHERE contract = ?"),
    event: db.prepare("INSERT INTO events (at, service, kind, message) VALUES (?, ?, ?, ?)"),
    trimEvents: db.prepare(`DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ${MAX_EVENTS}`),
    kvPut: db.prepare("INSERT INTO kv (key, value, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, at = excluded.at"),
    kvGet: db.prepare("SELECT value, at FROM kv WHERE key = ?"),
    kvDel: db.prepare("DELETE FROM kv WHERE key = ? RETURNING key"),
    events: db.prepare("SELECT id, at, service, kind, message FROM events ORDER BY id DESC LIMIT ?"),
    putBackup: db.prepare(`INSERT INTO backups (service, replica, disk, manifest, taken, node, size, uploaded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (service, replica, disk) DO UPDATE SET manifest = excluded.manifest, taken = excluded.taken, node = excluded.node, size = excluded.size, uploaded = excluded.uploaded`),
    lastBackup: db.prepare("SELECT * FROM backups WHERE service = ? AND replica = ? AND disk = ?"),
    backups: db.prepare("SELECT * FROM backups ORDER BY service, replica, disk"),
    planRestore: db.prepare(`INSERT INTO restores (service, replica, disk, source, manifest, taken, state, attempts, error, created, updated)
      VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, '', ?, ?) ON CONFLICT (service, replica, disk) DO NOTHING`),
    setRestore: db.prepare("UPDATE restores SET state = ?, attempts = ?, error = ?, updated = ? WHERE service = ? AND replica = ? AND disk = ?"),
    restores: db.prepare("SELECT * FROM restores ORDER BY service, replica, disk"),
    dropRestores: db.prepare("DELETE FROM restores WHERE service = ? AND replica = ?"),
    putInPlace: db.prepare(`INSERT INTO inplace (contract, service, replica, from_hash, to_hash, rollback, at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (contract) DO UPDATE SET service = excluded.service, replica = excluded.replica, from_hash = excluded.from_hash, to_hash = excluded.to_hash, rollback = excluded.rollback, at = excluded.at`),
    inPlace: db.prepare("SELECT * FROM inplace ORDER BY contract"),
    dropInPlace: db.prepare("DELETE FROM inplace WHERE contract = ?"),
    resetSeen: db.prepare("INSERT INTO seen (contract, at) VALUES (?, ?) ON CONFLICT (contract) DO UPDATE SET at = excluded.at"),
    dropServiceRestores: db.prepare("DELETE FROM restores WHERE service = ?"),
    dropServiceInPlace: db.prepare("DELETE FROM inplace WHERE service = ?"),
    eventsOf: db.prepare("SELECT id, at, service, kind, message FROM events WHERE service = ? ORDER BY id DESC LIMIT ?"),
  };
  return {
    services: () => q.services.all().map((r) => JSON.parse(String(r.spec)) as ServiceSpec),
    putService: (s, o = {}) => {
      const text = JSON.stringify(s);
      db.exec("BEGIN IMMEDIATE");
      try {
        const old = q.getService.get(s.name) as { spec: string } | undefined;
        if (old && !o.keepPrevious && old.spec !== text) q.putPrevious.run(s.name, old.spec);
        q.putService.run(s.name, text, Date.now());
        db.exec("COMMIT");
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      }
    },
    previousService: (name) => {
      const r = q.getPrevious.get(name) as { spec: string } | undefined;
      return r ? (JSON.parse(r.spec) as ServiceSpec) : undefined;
    },
    removeService: (name) => void q.removeService.run(name),
    nextGeneration: (service) => Number((q.nextGen.get(service) as { value: number }).value),
    beginOp: (o) => {
      const id = Number((q.beginOp.get(o.service, o.kind, o.replica, o.nodeId, o.run, Date.now()) as { id: number }).id);
      q.trimOps.run();
      return id;
    },
    finishOp: (id, state) => void q.finishOp.run(state, Date.now(), id),
    pendingOps: () => q.pending.all().map((r) => ({
      id: Number(r.id), service: String(r.service), kind: String(r.kind) as BotOp["kind"], replica: String(r.replica), nodeId: Number(r.node),
      run: String(r.run), state: "pending", startedAt: Number(r.started),
    })),
    firstSeen: (contractId, now) => {
      q.seenInsert.run(contractId, now);
      return Number((q.seenGet.get(contractId) as { at: number }).at);
    },
    event: (e, at = Date.now()) => {
      q.event.run(at, e.service, e.kind, e.message.slice(0, 1000));
      q.trimEvents.run();
    },
    events: (o = {}) => {
      const limit = Math.min(Math.max(o.limit ?? 50, 1), 500);
      const rows = o.service ? q.eventsOf.all(o.service, limit) : q.events.all(limit);
      return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), service: String(r.service), kind: String(r.kind), message: String(r.message) })).reverse();
    },
    putStatus: (status) => void q.kvPut.run("status", JSON.stringify(status), Date.now()),
    status: () => {
      const r = q.kvGet.get("status") as { value: string; at: number } | undefined;
      return r ? { at: Number(r.at), status: JSON.parse(r.value) as unknown } : undefined;
    },
    requestApply: () => void q.kvPut.run("apply", "1", Date.now()),
    hasApplyRequest: () => q.kvGet.get("apply") !== undefined,
    takeApplyRequest: () => q.kvDel.get("apply") !== undefined,
    putBackup: (r) => void q.putBackup.run(r.service, r.replica, r.disk, r.manifest, r.takenAt, r.nodeId, r.size, r.uploadedBlocks),
    lastBackup: (service, replica, disk) => {
      const r = q.lastBackup.get(service, replica, disk);
      return r ? backupRow(r) : undefined;
    },
    backups: (service) => q.backups.all().map(backupRow).filter((b) => service === undefined || b.service === service),
    planRestore: (r, at = Date.now()) => void q.planRestore.run(r.service, r.replica, r.disk, r.source, r.manifest, r.takenAt, at, at),
    setRestore: (service, replica, disk, p, at = Date.now()) => void q.setRestore.run(p.state, p.attempts, p.error.slice(0, 1000), at, service, replica, disk),
    restores: (service) => q.restores.all().map(restoreRow).filter((r) => service === undefined || r.service === service),
    dropRestores: (service, replica) => void q.dropRestores.run(service, replica),
    putInPlace: (r) => void q.putInPlace.run(r.contractId, r.service, r.replica, r.from, r.to, r.rollback ? 1 : 0, r.at),
    inPlace: (service) => q.inPlace.all().map((r) => ({
      contractId: Number(r.contract), service: String(r.service), replica: String(r.replica), from: String(r.from_hash), to: String(r.to_hash), rollback: Number(r.rollback) === 1, at: Number(r.at),
    })).filter((r) => service === undefined || r.service === service),
    dropInPlace: (contractId) => void q.dropInPlace.run(contractId),
    resetSeen: (contractId, at) => void q.resetSeen.run(contractId, at),
    dropServiceRows: (service) => Number(q.dropServiceRestores.run(service).changes) + Number(q.dropServiceInPlace.run(service).changes),
    close: () => db.close(),
  };
}

function backupRow(r: Record<string, unknown>): DiskBackupRecord {
  return {
    service: String(r.service), replica: String(r.replica), disk: String(r.disk), manifest: String(r.manifest),
    takenAt: Number(r.taken), nodeId: Number(r.node), size: Number(r.size), uploadedBlocks: Number(r.uploaded),
  };
}

function restoreRow(r: Record<string, unknown>): DiskRestoreRecord {
  return {
    service: String(r.service), replica: String(r.replica), disk: String(r.disk), source: String(r.source), manifest: String(r.manifest),
    takenAt: Number(r.taken), state: String(r.state) as DiskRestoreRecord["state"], attempts: Number(r.attempts), error: String(r.error),
    createdAt: Number(r.created), updatedAt: Number(r.updated),
  };
}
