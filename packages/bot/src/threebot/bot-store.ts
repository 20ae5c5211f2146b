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
  kind: "deploy" | "cancel" | "gateway";
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
    close: () => db.close(),
  };
}
