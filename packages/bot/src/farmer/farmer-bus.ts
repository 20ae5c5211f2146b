/**
 * The farmerbot on the bus: its calls to the farm's nodes (typed node client: statistics,
 * `zos.system.power_off`, `zos.system.power_durations`, signed by the farm's twin) and its one route, `farmerbot.power.wake`,
 * which any twin may call (validated; the bot caps demand wakes in flight).
 *
 * @example
 * ```ts
 * const bot = new Farmerbot({ …, nodes: busFarmerNodes(bus) });
 * const unregister = serveWakeRoute(bus, bot);
 * ```
 */
import type { Bus } from "@zgrid/bus";
import { nodeClient } from "@zgrid/client";
import { FARMERBOT_WAKE, ValidationError } from "@zgrid/types";
import type { Farmerbot, FarmerNodes } from "./farmerbot.ts";

export function busFarmerNodes(bus: Pick<Bus, "request">): FarmerNodes {
  return {
    async statistics(twinId) {
      const s = await nodeClient(bus, twinId).statistics({ timeout: 4_000 });
      return { deployments: s.users.deployments, usedCru: s.used.cru, movable: s.users.movable_deployments };
    },
    async powerOff(twinId, reason) {
      await nodeClient(bus, twinId).powerOff(reason.slice(0, 256), { timeout: 30_000 });
    },
    async durations(twinId) {
      const d = await nodeClient(bus, twinId).powerDurations({ timeout: 4_000 });
      return { onSeconds: d.on_seconds, offSeconds: d.off_seconds, reservedCoreSeconds: d.reserved_core_seconds, wakes: d.wakes, offs: d.power_offs };
    },
  };
}

export function serveWakeRoute(bus: Pick<Bus, "handle" | "unhandle">, bot: Pick<Farmerbot, "wake">): () => void {
  bus.handle(FARMERBOT_WAKE.name, (payload: unknown) => {
    const r = FARMERBOT_WAKE.request.safeParse(payload ?? {});
    if (!r.success) throw new ValidationError([{ field: "node_id", value: (payload as { node_id?: unknown } | null)?.node_id, expected: "a positive integer node id" }]);
    return bot.wake(r.data.node_id, "demand");
  });
  return () => bus.unhandle(FARMERBOT_WAKE.name);
}
