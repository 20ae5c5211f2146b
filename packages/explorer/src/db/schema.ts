/**
 * The explorer's tables, valid SQL for both SQLite and PostgreSQL. Chain-derived tables (twins …
 * governance) are rebuilt from `events` on a reorg; `node_live` and `node_capacity` come from the
 * liveness checker and are never rewound.
 */
import type { Db } from "./db.ts";

export const SCHEMA_VERSION = "1";

const TABLES = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS blocks (number BIGINT PRIMARY KEY, hash TEXT NOT NULL, parent_hash TEXT NOT NULL, timestamp BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS events (block BIGINT NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL, source TEXT NOT NULL,
     name TEXT NOT NULL, args TEXT NOT NULL, PRIMARY KEY (block, log_index))`,
  `CREATE TABLE IF NOT EXISTS twins (id INTEGER PRIMARY KEY, account TEXT NOT NULL, peer_id TEXT NOT NULL, relays TEXT NOT NULL, created_block BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS farms (id INTEGER PRIMARY KEY, twin_id INTEGER NOT NULL, name TEXT NOT NULL, pricing_policy_id INTEGER NOT NULL,
     dedicated INTEGER NOT NULL, created_block BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS farm_ips (farm_id INTEGER NOT NULL, ip TEXT NOT NULL, gateway TEXT NOT NULL, contract_id BIGINT NOT NULL, PRIMARY KEY (farm_id, ip))`,
  `CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, farm_id INTEGER NOT NULL, twin_id INTEGER NOT NULL,
     cru BIGINT NOT NULL, mru BIGINT NOT NULL, sru BIGINT NOT NULL, hru BIGINT NOT NULL,
     country TEXT NOT NULL, city TEXT NOT NULL, latitude TEXT NOT NULL, longitude TEXT NOT NULL,
     ip4 TEXT NOT NULL, gw4 TEXT NOT NULL, ip6 TEXT NOT NULL, gw6 TEXT NOT NULL, domain TEXT NOT NULL,
     secure_boot INTEGER NOT NULL, virtualized INTEGER NOT NULL, serial TEXT NOT NULL,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, uptime BIGINT NOT NULL, last_uptime_report BIGINT NOT NULL,
     power_target_up INTEGER NOT NULL, power_state_up INTEGER NOT NULL, power_changed_at BIGINT NOT NULL,
     rent_contract_id BIGINT NOT NULL, rented_by INTEGER NOT NULL, deleted INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS nodes_farm ON nodes (farm_id)`,
  // the API's case-insensitive location filters (also gives PostgreSQL statistics for the expression)
  `CREATE INDEX IF NOT EXISTS nodes_country ON nodes (LOWER(country))`,
  `CREATE INDEX IF NOT EXISTS nodes_city ON nodes (LOWER(city))`,
  `CREATE TABLE IF NOT EXISTS contracts (id BIGINT PRIMARY KEY, twin_id INTEGER NOT NULL, node_id INTEGER NOT NULL, kind TEXT NOT NULL,
     state TEXT NOT NULL, cause TEXT NOT NULL, deployment_hash TEXT NOT NULL, metadata TEXT NOT NULL, name TEXT NOT NULL,
     public_ips INTEGER NOT NULL, cru BIGINT NOT NULL, mru BIGINT NOT NULL, sru BIGINT NOT NULL, hru BIGINT NOT NULL,
     network_bytes BIGINT NOT NULL, billed_units BIGINT NOT NULL, rate TEXT NOT NULL, created_block BIGINT NOT NULL, created_at BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS contracts_twin ON contracts (twin_id)`,
  `CREATE INDEX IF NOT EXISTS contracts_node ON contracts (node_id)`,
  `CREATE TABLE IF NOT EXISTS proposals (id INTEGER PRIMARY KEY, proposer TEXT NOT NULL, version TEXT NOT NULL, safe_to_upgrade INTEGER NOT NULL,
     deadline BIGINT NOT NULL, closed INTEGER NOT NULL, approved INTEGER NOT NULL, votes INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS node_live (node_id INTEGER PRIMARY KEY, last_seen BIGINT NOT NULL, last_try BIGINT NOT NULL, failures INTEGER NOT NULL,
     version TEXT NOT NULL, free_cru BIGINT NOT NULL, free_mru BIGINT NOT NULL, free_sru BIGINT NOT NULL, free_hru BIGINT NOT NULL,
     used_cru BIGINT NOT NULL, used_mru BIGINT NOT NULL, used_sru BIGINT NOT NULL, used_hru BIGINT NOT NULL,
     deployments INTEGER NOT NULL, workloads INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS node_capacity (node_id INTEGER NOT NULL, at BIGINT NOT NULL, used_cru BIGINT NOT NULL, used_mru BIGINT NOT NULL,
     used_sru BIGINT NOT NULL, used_hru BIGINT NOT NULL, deployments INTEGER NOT NULL, PRIMARY KEY (node_id, at))`,
];

/** The chain-derived tables, emptied and rebuilt from `events` when a reorg rewinds the index. */
export const PROJECTION_TABLES = ["twins", "farms", "farm_ips", "nodes", "contracts", "proposals"] as const;

export async function migrate(db: Db): Promise<void> {
  await db.tx(async (t) => {
    for (const sql of TABLES) await t.run(sql);
    await t.run("INSERT INTO meta (k, v) VALUES ('schema', ?) ON CONFLICT (k) DO NOTHING", [SCHEMA_VERSION]);
  });
}
