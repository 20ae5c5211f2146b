/** PostgreSQL through `pg`: a small pool; `?` placeholders become `$n`; BIGINT comes back as a number. */
import pg from "pg";
import { ExplorerDbError, Mutex, type Db, type Queryable, type SqlValue, type Statement } from "./db.ts";

pg.types.setTypeParser(20, (v) => Number(v));     // int8: sizes and ids fit in 2^53
pg.types.setTypeParser(1700, (v) => Number(v));   // numeric (SUM of BIGINT)

/** `?` → `$1, $2, …` (the explorer's SQL has no `?` inside string literals). */
export function toPgSql(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 10_000, statement_timeout: 30_000 });
  pool.on("error", () => undefined); // an idle client's broken connection is replaced on next use
  try {
    (await pool.connect()).release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new ExplorerDbError(`cannot reach PostgreSQL at ${redact(url)}`, { cause: e, hint: "check the URL, that the server runs and accepts this user" });
  }
  const on = (c: pg.Pool | pg.PoolClient): Queryable => ({
    all: async <T>(sql: string, params: SqlValue[] = []) => (await c.query(toPgSql(sql), params)).rows as T[],
    run: async (sql: string, params: SqlValue[] = []) => { await c.query(toPgSql(sql), params); },
    async batch(statements) {
      // one simple-protocol query per ≤ 500 statements / ~1 MiB: values inlined as quoted literals
      // (typed by their column exactly like untyped parameters); a pool runs them on one client
      for (const text of batchTexts(statements)) await c.query(text);
    },
  });
  const direct = on(pool);
  const lock = new Mutex();
  return {
    dialect: "postgres",
    all: direct.all,
    run: direct.run,
    batch: (statements) => lock.run(async () => {
      const client = await pool.connect();
      try {
        await on(client).batch(statements);
      } finally {
        client.release();
      }
    }),
    tx: (fn) => lock.run(async () => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const r = await fn(on(client));
        await client.query("COMMIT");
        return r;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    }),
    close: () => pool.end(),
  };
}

/** `?` placeholders replaced by quoted literals (NULL for null), statements joined in chunks. */
export function batchTexts(statements: Statement[]): string[] {
  const out: string[] = [];
  let cur: string[] = [], size = 0;
  for (const [sql, params] of statements) {
    let i = 0;
    const text = sql.replace(/\?/g, () => {
      if (i >= params.length) throw new ExplorerDbError(`too few parameters for: ${sql.slice(0, 80)}`);
      return literal(params[i++]!);
    });
    if (i !== params.length) throw new ExplorerDbError(`too many parameters for: ${sql.slice(0, 80)}`);
    cur.push(text);
    size += text.length;
    if (cur.length >= 500 || size >= 1 << 20) { out.push(cur.join(";\n")); cur = []; size = 0; }
  }
  if (cur.length) out.push(cur.join(";\n"));
  return out;
}

function literal(v: SqlValue): string {
  if (v === null) return "NULL";
  if (typeof v === "number" && !Number.isFinite(v)) throw new ExplorerDbError(`not a finite number: ${v}`);
  return pg.escapeLiteral(String(v));
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
