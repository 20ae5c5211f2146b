/**
 * The upgrader's config (a JSON file for `zgrid-upgrader --config`), validated with zod.
 *
 * @example
 * ```json
 * {
 *   "stateDir": "/var/lib/zgrid-upgrader",
 *   "zosConfig": "/etc/zos.json",
 *   "releaseKeys": ["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"],
 *   "initial": { "version": "1.0.0", "dir": "/opt/zgrid" },
 *   "stores": ["http://hub.grid:8080/blocks"],
 *   "pollMs": 5000,
 *   "health": { "windowMs": 120000, "settleMs": 3000 }
 * }
 * ```
 * - `zosConfig`: zosd's own config; the upgrader reads from it the chain (RPC URL, contracts),
 *   `dataDir` (the node key: `identity.seed`), `vmStateDir` and `metrics`.
 * - `releaseKeys`: the pinned release keys (addresses); a release signed by any other key is refused.
 * - `initial`: what runs before any release is installed (a checkout or an unpacked release);
 *   absent: the node waits for the approved release and installs it first.
 * - `stores`: block stores to fetch release blocks from instead of the flist's routes.
 * - `health.windowMs`: how long a new zosd has to pass the health gate; `settleMs`: how long it must
 *   then keep running.
 * - `keepVersions`: installed versions kept (current + previous at least).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UpgraderConfigError } from "./errors.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

export const upgraderConfigSchema = z.strictObject({
  stateDir: z.string().startsWith("/"),
  zosConfig: z.string().startsWith("/"),
  releaseKeys: z.array(address).min(1).max(16),
  initial: z.strictObject({ version: z.string().min(1).max(64), dir: z.string().startsWith("/") }).optional(),
  stores: z.array(z.string().max(512)).max(16).optional(),
  pollMs: z.number().int().min(100).max(3_600_000).default(5_000),
  health: z.strictObject({ windowMs: z.number().int().min(1_000).default(120_000), settleMs: z.number().int().min(0).default(3_000) })
    .default({ windowMs: 120_000, settleMs: 3_000 }),
  keepVersions: z.number().int().min(2).max(10).default(2),
});

export type UpgraderConfig = z.infer<typeof upgraderConfigSchema>;

/** What the upgrader needs from zosd's config. */
export interface ZosFacts {
  dataDir: string;
  vmStateDir: string;
  chain: { rpcUrl: string; addresses: { token: `0x${string}`; registry: `0x${string}`; contracts: `0x${string}`; governance: `0x${string}` } };
  metricsUrl?: string;
}

const zosFactsSchema = z.object({
  dataDir: z.string().startsWith("/"),
  vmStateDir: z.string().startsWith("/").optional(),
  chain: z.object({ rpcUrl: z.string(), addresses: z.object({ token: address, registry: address, contracts: address, governance: address }) }),
  metrics: z.object({ port: z.number().int(), host: z.string().optional() }).optional(),
});

export function parseUpgraderConfig(input: unknown): UpgraderConfig {
  const r = upgraderConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UpgraderConfigError(`upgrader config: ${issue.path.join(".") || "(root)"}: ${issue.message}`, { hint: "see the example in packages/upgrader/README.md", details: { issues: r.error.issues.length } });
  }
  return r.data;
}

export function readZosFacts(path: string): ZosFacts {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UpgraderConfigError(`cannot read zosd config ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const r = zosFactsSchema.safeParse(raw);
  if (!r.success) throw new UpgraderConfigError(`zosd config ${path}: ${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`);
  const c = r.data;
  return {
    dataDir: c.dataDir, vmStateDir: c.vmStateDir ?? join(c.dataDir, "vms-state"),
    chain: { rpcUrl: c.chain.rpcUrl, addresses: c.chain.addresses as ZosFacts["chain"]["addresses"] },
    ...(c.metrics && c.metrics.port > 0 ? { metricsUrl: `http://${c.metrics.host ?? "127.0.0.1"}:${c.metrics.port}/metrics` } : {}),
  };
}
