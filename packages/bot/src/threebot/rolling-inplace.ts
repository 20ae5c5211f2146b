/**
 * Rolling updates IN PLACE for services with disks (as Kubernetes StatefulSets do): a changed spec
 * does not place new replicas with empty disks; each replica (at most `max_unavailable` at a time)
 * is taken out of the gateway, drained, and its deployment updated on the same node and contract
 * (`grid.vms.update`: the node restarts the VM with the new model and keeps its disks); the next
 * one only once it passes its health check. A replica of the new version that fails rolls the
 * service back, in place again, to the previous spec.
 *
 * What cannot be done in place is refused at apply (`checkServiceDataLoss`): a disk removed (its
 * data dropped) or made smaller (a disk only grows in place), naming the disk, unless the owner
 * opts in (`allowDataLoss`, `zgrid bot apply --allow-data-loss`, as `zgrid apply` does). Opted in,
 * a removed disk is dropped by the in-place update; a replica whose disk must shrink is replaced
 * by a new one (today's surge path: its data is lost).
 *
 * Crash safety: the update is recorded in the bot's DB (`inplace`, with from/to hashes) and the
 * replica's start window restarted BEFORE it is sent. A pass after a SIGKILL reads the level from
 * the nodes (which hash each replica's deployment runs: the node's own metadata, so an update cut
 * between the chain and the node is seen as not done) and goes on: a replica still at the old hash
 * is updated again (idempotent), one at the new hash is waited for.
 *
 * @example
 * ```ts
 * checkServiceDataLoss(store.services().find((x) => x.name === s.name), s, false); // throws BotDataLossError
 * canRollInPlace(spec, replica); // true: same node, disks kept
 * await updateInPlace(env, spec, replicaHash(spec), replica);
 * ```
 */
import { vmModelSchema } from "@zgrid/client";
import { BaseError } from "@zgrid/types";
import type { BotEnv, Replica } from "./observe.ts";
import { serviceNetwork, serviceProject, type ServiceSpec } from "./service-spec.ts";

/** A spec change that would destroy disk data (a disk removed or made smaller); exit code 2. */
export class BotDataLossError extends BaseError {
  override readonly code = "BOT_DATA_LOSS";
  readonly exitCode = 2;
}

/** The disks whose data `next` destroys compared with `prev` ("data (removed)", "data (1024 → 512 MiB)"). */
export function diskLoss(prev: Pick<ServiceSpec, "disks" | "public_ip">, next: Pick<ServiceSpec, "disks" | "public_ip">): string[] {
  const lost: string[] = [];
  // a public IP cannot be added or removed in place (vms.update refuses it): every replica is replaced
  if ((prev.public_ip ?? false) !== (next.public_ip ?? false) && (prev.disks ?? []).length) {
    return (prev.disks ?? []).map((d) => `${d.name} (public_ip ${prev.public_ip ? "removed" : "added"}: the replicas are replaced)`);
  }
  for (const d of prev.disks ?? []) {
    const now = (next.disks ?? []).find((x) => x.name === d.name);
    if (!now) lost.push(`${d.name} (removed)`);
    else if (now.size < d.size) lost.push(`${d.name} (shrinks ${d.size} → ${now.size} MiB; a disk only grows in place)`);
  }
  return lost;
}

/**
 * Refuses a spec change that destroys disk data unless `allowDataLoss`.
 *
 * @example
 * ```ts
 * checkServiceDataLoss(old, next, false); // BotDataLossError: service 'db': the update destroys disk(s) data (removed)
 * ```
 */
export function checkServiceDataLoss(prev: ServiceSpec | undefined, next: ServiceSpec, allowDataLoss: boolean): void {
  if (!prev || allowDataLoss) return;
  const lost = diskLoss(prev, next);
  if (!lost.length) return;
  throw new BotDataLossError(`service '${next.name}': the update destroys disk(s) ${lost.join(", ")}`, {
    details: { service: next.name, disks: lost },
    hint: "nothing was changed; keep the disks (a disk may grow, and new disks may be added), or apply again with --allow-data-loss (SDK: apply(spec, { allowDataLoss: true }))",
  });
}

/** True when `r` can take `s` in place: the service has disks, none of the replica's shrinks, its public IP stays as it is. */
export function canRollInPlace(s: ServiceSpec, r: Replica): boolean {
  if (!(s.disks ?? []).length || !r.disks) return false;
  if (r.publicIpWorkload !== undefined && r.publicIpWorkload !== (s.public_ip ?? false)) return false;
  return s.disks.every((d) => (r.disks!.find((x) => x.name === d.name)?.size ?? 0) <= d.size);
}

/**
 * The spec a rollback makes desired again: the previous one, but keeping the disks the failed
 * version grew or added (so rolling back in place never shrinks or drops a disk: no data lost).
 */
export function rollbackSpec(previous: ServiceSpec, failed: ServiceSpec): ServiceSpec {
  const disks = previous.disks.map((d) => ({ ...d, size: Math.max(d.size, failed.disks.find((x) => x.name === d.name)?.size ?? 0) }));
  for (const d of failed.disks) if (!disks.some((x) => x.name === d.name)) disks.push(d);
  return disks.length > 4 ? previous : { ...previous, disks };
}

/**
 * Updates one replica in place to `s` (hash `hash`): recorded first (crash-safe), the start window
 * and health streak restarted, then `grid.vms.update` (same contract and node, disks kept; it
 * returns once the node has provisioned it). False when the update failed (logged; the next pass
 * sees the level and tries again or rolls back).
 */
export async function updateInPlace(env: BotEnv, s: ServiceSpec, hash: string, r: Replica, o: { rollback?: boolean } = {}): Promise<boolean> {
  env.store.putInPlace({ contractId: r.contractId, service: s.name, replica: r.name, from: r.hash, to: hash, rollback: o.rollback === true, at: env.now() });
  env.store.resetSeen(r.contractId, env.now());
  env.health.delete(r.contractId);
  const op = env.store.beginOp({ service: s.name, kind: "update", replica: r.name, nodeId: r.nodeId, run: env.run });
  env.log(s.name, "update", `updating replica ${r.name} in place on node ${r.nodeId} (${r.hash} → ${hash}${o.rollback ? ", rollback" : ""}; disks ${(s.disks ?? []).map((d) => d.name).join(", ")} kept)`);
  const model = vmModelSchema.parse({
    name: r.name, flist: s.flist, cpu: s.cpu, memory: s.memory, rootfs: s.rootfs, env: s.env, network: serviceNetwork(s), public_ip: s.public_ip,
    disks: (s.disks ?? []).map(({ name, size, mountpoint }) => ({ name, size, mountpoint })), ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
  });
  try {
    await env.grid.vms.update(r.name, model, { project: serviceProject(s), spec: hash });
    env.store.finishOp(op, "done");
    env.log(s.name, "updated", `replica ${r.name} runs ${hash} on node ${r.nodeId}: served again once healthy`);
    return true;
  } catch (e) {
    env.store.finishOp(op, "failed");
    env.log(s.name, "error", `in-place update of ${r.name} failed: ${(e as Error).message.split("\n")[0]}`);
    return false;
  }
}
