/**
 * One level-based pass over one service: observe (chain + nodes), then converge one step —
 * place missing replicas (healing lost ones on other nodes), roll outdated replicas forward one
 * `max_unavailable` batch at a time gated on health (a failed new replica rolls the service back),
 * point the gateway at the healthy replicas, and only then cancel what is lost, surplus or
 * outdated. A movable service's replica on a node its farm vacates (power target down) is moved
 * make-before-break: a new one is placed elsewhere, and the old one leaves the gateway, drains and
 * is cancelled only once enough others are healthy. A service with disks rolls IN PLACE instead (`rolling-inplace.ts`: drain, update on
 * the same node and contract with its disks, next once healthy; a failed one rolls back in place).
 * Idempotent: a pass after a crash sees the same world and continues.
 *
 * @example
 * ```ts
 * const view = await reconcileService(env, spec, await env.grid.contracts.list());
 * ```
 */
import type { ContractInfo } from "@zgrid/client";
import { syncGateway, type GatewayState } from "./gateway-sync.ts";
import { observeReplicas, type BotEnv, type Replica } from "./observe.ts";
import { healSources, holdRestoring, planHealRestore } from "./backup/heal-restore.ts";
import { placeReplica } from "./place-replica.ts";
import { canRollInPlace, rollbackSpec, updateInPlace } from "./rolling-inplace.ts";
import { replicaHash, serviceNetwork, serviceProject, type ServiceSpec } from "./service-spec.ts";

/**
 * How long the contract of a lost replica is kept once the restore that was to take over its data
 * failed for good: its node may come back with the disk (a cancelled contract is deprovisioned), so
 * it is not given up at once, but not forever either (it costs; its backup stays recorded).
 */
export const LOST_KEPT_AFTER_FAILED_RESTORE_MS = 24 * 3_600_000;

export interface ServiceView {
  name: string;
  desired: number;
  hash: string;
  replicas: Replica[];
  gateway?: GatewayState;
  /** What the pass did ("" when converged). */
  action: string;
}

export async function reconcileService(env: BotEnv, s: ServiceSpec, contracts: ContractInfo[]): Promise<ServiceView> {
  const hash = replicaHash(s);
  const replicas = await observeReplicas(env, s, contracts);
  // a healed replica whose disks are being restored is not served yet (held as `starting`)
  env.restoreReady?.set(s.name, holdRestoring(env, s, replicas));
  const view: ServiceView = { name: s.name, desired: s.replicas, hash, replicas, action: "" };
  const current = replicas.filter((r) => r.hash === hash);
  const outdated = replicas.filter((r) => r.hash !== hash);
  const up = (rs: Replica[]) => rs.filter((r) => r.state === "healthy");
  const coming = (rs: Replica[]) => rs.filter((r) => r.state === "starting");
  // a replica whose node is only suspect still counts (no false positive on a slow node)
  const unsure = (rs: Replica[]) => rs.filter((r) => r.state === "unreachable");
  const lost = replicas.filter((r) => r.state === "lost");
  // on a node its farm wants off: replaced like a lost one, but kept serving until the new one is healthy
  const vacating = current.filter((r) => r.vacating && (r.state === "healthy" || r.state === "starting"));
  const staying = up(current).filter((r) => !vacating.includes(r));
  const vacated = vacating.length && staying.length >= s.replicas ? vacating : [];
  const serving = up(replicas);
  // a replica whose heal restore failed for good stays stopped (its data is not dropped) but does
  // not hold rolling updates of the others forever: it is not "in flight"
  const restoreFailed = new Set(env.store.restores(s.name).filter((x) => x.state === "failed").map((x) => x.replica));
  const inFlight = coming(current).filter((r) => !restoreFailed.has(r.name));
  // services with disks roll in place; the in-place updates in flight (records dropped once healthy at their target)
  const records = (s.disks ?? []).length ? env.store.inPlace(s.name) : [];
  for (const rec of records) {
    const r = replicas.find((x) => x.contractId === rec.contractId);
    if (!r || (r.hash === rec.to && r.state === "healthy")) env.store.dropInPlace(rec.contractId);
  }
  const updatedTo = (r: Replica) => records.find((x) => x.contractId === r.contractId && x.to === r.hash);
  for (const r of replicas) {
    const rec = updatedTo(r);
    if (rec && r.state === "starting") r.message = `updated in place ${rec.from} → ${rec.to}${rec.rollback ? " (rollback)" : ""}, disks kept: ${r.message}`;
  }
  const held = env.restoreReady?.get(s.name);
  const rollable = outdated.filter((r) => ["healthy", "starting", "failed"].includes(r.state) && !held?.has(r.name) && canRollInPlace(s, r));
  // an outdated replica held for its heal restore, or (disks) whose node is only suspect, is neither
  // replaced nor rolled until it is back (then rolled in place): its disks hold the data
  const waiting = outdated.filter((r) => (held?.has(r.name) && r.state === "starting") || ((s.disks ?? []).length > 0 && r.state === "unreachable"));

  // 1. half-made contracts of an interrupted run: cancel now (the pass below replaces them)
  for (const r of replicas.filter((x) => x.state === "missing")) {
    await cancelReplica(env, s, r, "its deployment never reached the node (interrupted run)");
  }
  // 2. a new version that failed: roll back (the previous spec becomes desired again)
  const rollback = (why: string) => {
    const previous = env.store.previousService(s.name);
    if (previous) {
      env.store.putService(previous, { keepPrevious: true });
      env.log(s.name, "rollback", `rolled back to the previous version: ${why}`);
    } else env.log(s.name, "blocked", `the new version failed (${why}) and there is no previous version to roll back to`);
    view.action = "rollback";
  };
  // services with disks go back in place: the previous spec, keeping disks the new one grew or added
  const rollbackInPlace = (why: string): boolean => {
    const previous = env.store.previousService(s.name);
    if (!previous) return false;
    env.store.putService(rollbackSpec(previous, s), { keepPrevious: true });
    env.log(s.name, "rollback", `rolled back to the previous version (in place, disks kept): ${why}`);
    view.action = "rollback";
    return true;
  };
  // an in-place update that failed: back to the previous version, in place again (no cancel: its disks hold the data)
  const failedUpdate = current.filter((r) => r.state === "failed" && updatedTo(r));
  if (failedUpdate.length) {
    const rec = updatedTo(failedUpdate[0]!)!;
    if (!rec.rollback && rollbackInPlace(`replica ${failedUpdate.map((r) => r.name).join(", ")} failed (${failedUpdate[0]!.message})`)) return view;
    env.log(s.name, "blocked", `replica ${failedUpdate.map((r) => r.name).join(", ")} failed after an in-place ${rec.rollback ? "rollback" : "update"} (${failedUpdate[0]!.message}); kept with its disks, not replaced — fix the spec and apply again`);
  }
  const failedNew = current.filter((r) => r.state === "failed" && !updatedTo(r));
  if (failedNew.length && outdated.some((r) => r.state === "healthy")) {
    for (const r of failedNew) await cancelReplica(env, s, r, `new version failed: ${r.message}`);
    rollback(`replica ${failedNew.map((r) => r.name).join(", ")} failed (${failedNew[0]!.message})`);
    return view;
  }
  const failedCurrent = current.filter((x) => x.state === "failed" && !updatedTo(x));
  for (const r of failedCurrent) await cancelReplica(env, s, r, `failed: ${r.message}`);

  // 3. place: the current version needs `replicas` healthy or starting ones
  const currentLive = up(current).length + coming(current).length + unsure(current).length - vacating.length;
  const lostCount = s.heal ? 0 : lost.length;
  // (replicas rolled in place, and failed in-place ones kept with their data, are not replaced)
  let missing = s.replicas - currentLive - lostCount - rollable.length - waiting.length - failedUpdate.length;
  if (outdated.length && missing > 0) {
    // rolling update: at most max_unavailable new replicas in flight, and only when the last batch is healthy
    if (inFlight.length > 0) missing = 0;
    else missing = Math.min(missing, s.max_unavailable);
  }
  if (missing > 0) {
    const avoid = new Set(replicas.filter((r) => r.state === "healthy" || r.state === "starting" || r.state === "unreachable").map((r) => r.nodeId));
    // a heal's new replica takes over a replaced one's data: its disks restored from their last backups
    const sources = s.disks?.length ? healSources(env, s, [...lost, ...failedCurrent], replicas.filter((r) => !["lost", "missing", "failed"].includes(r.state))) : [];
    for (let i = 0; i < missing; i++) {
      const reason = healReason(lost, failedCurrent) ?? (vacating.length ? `move: node ${[...new Set(vacating.map((r) => r.nodeId))].join(", ")} is vacated by its farm` : outdated.length ? "rolling update" : "scale up");
      const source = reason.startsWith("heal") ? sources.shift() : undefined;
      const placed = await placeReplica(env, s, hash, avoid, reason, source ? (name) => void planHealRestore(env, s, source.name, name) : undefined);
      // a heal attempted (a node was chosen): counted in zgrid_bot_heals_total; a blocked one is not an attempt
      if (placed && reason.startsWith("heal")) env.metrics.heal("vm", "failed" in placed ? "failed" : "ok");
      if (placed && "failed" in placed && outdated.some((r) => r.state === "healthy")) {
        rollback(`a replica of the new version did not deploy: ${placed.failed}`);
        return view;
      }
      if (!placed || "failed" in placed) break;
      avoid.add(placed.nodeId);
    }
    view.action = "place";
  }

  // 3b. in place (services with disks): at most max_unavailable replicas out at once, the next
  // batch only once the last is healthy; the ones already draining first, then not serving, then oldest
  const rolling = rollable.length
    ? [...rollable].sort((a, b) => Number(env.draining.has(b.contractId)) - Number(env.draining.has(a.contractId)) || Number(a.state === "healthy") - Number(b.state === "healthy") || a.generation - b.generation)
      .slice(0, Math.max(0, s.max_unavailable - inFlight.length))
    : [];

  // 4. gateway over the healthy replicas, minus outdated ones about to be retired
  const replaced = outdated.filter((r) => !rollable.includes(r) && !waiting.includes(r));
  const excess = staying.length + up(replaced).length - s.replicas;
  const retire = [
    ...replaced.filter((r) => r.state === "failed" || r.state === "starting"),
    ...up(replaced).sort((a, b) => a.generation - b.generation).slice(0, Math.max(0, Math.min(excess, staying.length))),
    ...vacated,
  ];
  const surplus = outdated.length ? [] : [...staying].sort((a, b) => b.generation - a.generation).slice(0, Math.max(0, staying.length - s.replicas));
  const leaving = [...retire, ...surplus, ...rolling];
  // a replica back in service (its successor failed) starts its drain again next time
  for (const r of replicas) if (!leaving.includes(r)) env.draining.delete(r.contractId);
  const keepServing = serving.filter((r) => !leaving.includes(r));
  view.gateway = await syncGateway(env, s, keepServing, contracts).catch((e: unknown) => {
    env.log(s.name, "error", `gateway: ${(e as Error).message}`);
    return undefined;
  });

  // 5. cancel, only now that the gateway no longer uses them: retired outdated ones (once
  // drained: the gateway may still be finishing requests it sent them before), lost
  // ones once the new replicas are healthy, surplus
  for (const r of retire) {
    // (a gateway that could not be re-pointed this pass may still send to it: kept)
    if (s.gateway && r.state === "healthy" && (!view.gateway || !drained(env, r))) continue;
    await cancelReplica(env, s, r, vacated.includes(r) ? `moved off node ${r.nodeId}: its farm vacates it` : "replaced by the new version");
  }
  for (const r of rolling) {
    // out of the gateway first, and drained (as a retired replica), then updated in place
    if (s.gateway && r.state === "healthy" && (!view.gateway || !drained(env, r))) continue;
    // back to the version it was updated from (a rollback) — not a newer spec applied meanwhile
    const isRollback = env.store.inPlace(s.name).some((x) => x.contractId === r.contractId && x.to === r.hash && x.from === hash);
    view.action ||= "update";
    // refused by the node (capacity, a bad flist …): the new version did not deploy — back, as the surge path does
    if (!(await updateInPlace(env, s, hash, r, { rollback: isRollback })) && !isRollback && rollbackInPlace(`the in-place update of ${r.name} failed`)) return view;
  }
  if (s.heal && up(current).length + up(outdated).length - retire.length >= s.replicas) {
    for (const r of lost) await cancelReplica(env, s, r, `its node ${r.nodeId} is dead; replaced`);
  } else {
    // a lost replica whose data's restore failed for good is given up after a grace window (see LOST_KEPT_AFTER_FAILED_RESTORE_MS)
    const givenUp = new Set(env.store.restores(s.name).filter((x) => x.state === "failed" && env.now() - x.updatedAt >= LOST_KEPT_AFTER_FAILED_RESTORE_MS).map((x) => x.source));
    for (const r of lost.filter((x) => givenUp.has(x.name))) {
      await cancelReplica(env, s, r, `its node ${r.nodeId} is dead and the restore of its data failed for good ${Math.round(LOST_KEPT_AFTER_FAILED_RESTORE_MS / 3_600_000)} h ago (its last backup stays recorded)`);
    }
  }
  for (const r of surplus) {
    if (s.gateway && (!view.gateway || !drained(env, r))) continue;
    await cancelReplica(env, s, r, "more replicas than desired");
  }
  await cancelDeadNetworkParts(env, s, view.gateway);
  return view;
}

/**
 * Why a new replica is a heal (a replica of the current version was lost with its node, or failed
 * on its node and was just cancelled), or undefined when it is not one.
 *
 * @example
 * ```ts
 * healReason([{ nodeId: 3 } as Replica], []); // "heal: node 3 is dead"
 * ```
 */
export function healReason(lost: Replica[], failed: Replica[]): string | undefined {
  if (lost.length) return `heal: node ${[...new Set(lost.map((r) => r.nodeId))].join(", ")} is dead`;
  if (failed.length) return `heal: replica ${failed.map((r) => r.name).join(", ")} failed`;
  return undefined;
}

/** True once a replica has been out of the gateway for `drainMs` (the first call starts the clock). */
function drained(env: BotEnv, r: Replica): boolean {
  const since = env.draining.get(r.contractId);
  if (since === undefined) {
    env.draining.set(r.contractId, env.now());
    return env.drainMs <= 0;
  }
  return env.now() - since >= env.drainMs;
}

async function cancelReplica(env: BotEnv, s: ServiceSpec, r: Replica, why: string): Promise<void> {
  const op = env.store.beginOp({ service: s.name, kind: "cancel", replica: r.name, nodeId: r.nodeId, run: env.run });
  try {
    await env.grid.contracts.cancel(r.contractId);
    env.log(s.name, "cancel", `replica ${r.name} on node ${r.nodeId} (contract ${r.contractId}) cancelled: ${why}`);
    env.store.finishOp(op, "done");
  } catch (e) {
    env.store.finishOp(op, "failed");
    env.log(s.name, "error", `cancel of ${r.name} failed: ${(e as Error).message}`);
  }
}

/**
 * Network parts of the service on nodes where none of its replicas (nor its gateway) lives
 * anymore, read from a fresh contract list (so replicas placed in this pass count).
 */
async function cancelDeadNetworkParts(env: BotEnv, s: ServiceSpec, gw: GatewayState | undefined): Promise<void> {
  const project = serviceProject(s);
  const contracts = await env.grid.contracts.list();
  const mine = contracts.filter((c) => c.metadata?.project === project && c.state !== "deleted");
  const used = new Set([...mine.filter((c) => c.metadata?.kind !== "network").map((c) => c.nodeId), ...(gw ? [gw.nodeId] : [])]);
  for (const c of mine) {
    if (c.metadata?.kind !== "network" || c.metadata.name !== serviceNetwork(s) || used.has(c.nodeId)) continue;
    await env.grid.contracts.cancel(c.id).then(
      () => env.log(s.name, "cancel", `network part on node ${c.nodeId} (contract ${c.id}) cancelled: no replica there anymore`),
      (e: unknown) => env.log(s.name, "error", `cancel of network part ${c.id} failed: ${(e as Error).message}`),
    );
  }
}
