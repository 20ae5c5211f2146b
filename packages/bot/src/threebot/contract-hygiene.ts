/**
 * Orphan contracts cannot accumulate: a node contract of the twin whose node (alive, answering)
 * has no deployment for it, seen so for longer than the grace window, is cancelled; so is every
 * contract of a 3bot service that is no longer desired. A contract whose node does not answer is
 * left alone (the heal path handles dead nodes), and a contract with a deployment is never touched
 * here: the user's live contracts are safe.
 *
 * @example
 * ```ts
 * const cancelled = await cancelOrphans(env, contracts, new Set(["web"]));
 * ```
 */
import { nodeClient, type ContractInfo } from "@zgrid/client";
import { nodeTwinOf, type BotEnv } from "./observe.ts";

const BOT_PROJECT = /^3bot\.([a-z0-9]+)$/;

export async function cancelOrphans(env: BotEnv, contracts: ContractInfo[], services: Set<string>): Promise<number[]> {
  const bus = await env.grid.bus();
  const cancelled: number[] = [];
  const cancel = async (c: ContractInfo, service: string, why: string) => {
    try {
      await env.grid.contracts.cancel(c.id);
      cancelled.push(c.id);
      env.log(service, "orphan", `contract ${c.id} (${c.metadata ? `${c.metadata.kind} ${c.metadata.name}` : "no metadata"}, node ${c.nodeId}) cancelled: ${why}`);
    } catch (e) {
      env.log(service, "error", `cancel of orphan ${c.id} failed: ${(e as Error).message}`);
    }
  };
  for (const c of contracts) {
    if (c.state === "deleted") continue;
    const owner = BOT_PROJECT.exec(c.metadata?.project ?? "")?.[1];
    if (owner && !services.has(owner)) {
      await cancel(c, owner, `service '${owner}' is no longer desired`);
      if (c.metadata?.nameContract) await env.grid.contracts.cancel(c.metadata.nameContract).catch(() => undefined);
      continue;
    }
    if (c.kind !== "node") continue;
    const firstSeen = env.store.firstSeen(c.id, env.now());
    if (env.now() - firstSeen < env.orphanGraceMs) continue;
    if (env.liveness.state(c.nodeId) !== "alive") continue;
    const twin = await nodeTwinOf(env.grid, c.nodeId);
    env.liveness.watch(c.nodeId, twin);
    try {
      await nodeClient(bus, twin).get(c.id, { timeout: 4_000 });
    } catch (e) {
      if ((e as { code?: string }).code === "DEPLOYMENT_NOT_FOUND") await cancel(c, owner ?? "", `no deployment on node ${c.nodeId} after ${Math.round(env.orphanGraceMs / 1000)} s`);
    }
  }
  return cancelled;
}

/**
 * Drops the bot's rows of services no longer desired (removed by `bot.remove`, `--replace` or
 * `zgrid bot rm` from another process): their heal restores and in-place update records. Their
 * contracts are cancelled by `cancelOrphans`; their backups stay listed (the data is on the hub).
 *
 * @example
 * ```ts
 * dropRowsOfRemovedServices(env, store.services().map((s) => s.name)); // ["db"] when db's rows went
 * ```
 */
export function dropRowsOfRemovedServices(env: Pick<BotEnv, "store" | "log">, desired: string[]): string[] {
  const keep = new Set(desired);
  const gone = [...new Set([...env.store.restores(), ...env.store.inPlace()].map((r) => r.service))].filter((n) => !keep.has(n));
  for (const name of gone) if (env.store.dropServiceRows(name)) env.log(name, "apply", `restore and update records of removed service ${name} dropped`);
  return gone;
}
