/**
 * A throwaway PostgreSQL cluster for tests and benchmarks (Debian's postgresql): initdb into a temp
 * dir, listening on 127.0.0.1 on a free port, as the unprivileged `postgres` user when run as root.
 * `stop()` stops it (immediate mode) and removes the directory.
 *
 * @example
 * ```ts
 * const pg = await startPgCluster();
 * t.after(() => pg.stop());
 * const db = await openDb(await pg.createDatabase("t1"));
 * ```
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { freePort } from "@zgrid/types/free-port";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface PgCluster { url(database?: string): string; createDatabase(name: string): Promise<string>; stop(): Promise<void> }

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  throw new Error("PostgreSQL is not installed: apt-get install postgresql (listed in packages/explorer/apt-packages.txt)");
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = binDir();
  const dir = await mkdtemp(join(tmpdir(), "zgrid-pg-"));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number((await run("id", ["-u", "postgres"])).stdout.trim()) : undefined;
  const gid = asRoot ? Number((await run("id", ["-g", "postgres"])).stdout.trim()) : undefined;
  if (uid !== undefined && gid !== undefined) await chown(dir, uid, gid);
  const as = (cmd: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  const port = await freePort();
  const data = join(dir, "data");
  let started = false;
  try {
    await as("initdb", ["-D", data, "-A", "trust", "-U", "explorer", "--no-sync", "-E", "UTF8"]);
    await as("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o", `-p ${port} -h 127.0.0.1 -k ${dir} -F -c fsync=off`, "start"]);
    started = true;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const url = (database = "postgres") => `postgres://explorer@127.0.0.1:${port}/${database}`;
  return {
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try { await c.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, "_")}"`); } finally { await c.end(); }
      return url(name.replace(/[^a-z0-9_]/g, "_"));
    },
    async stop() {
      if (started) await as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      started = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
