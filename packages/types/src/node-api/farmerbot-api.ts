/**
 * The farmerbot's bus API (served by a farm's bot under the farm's twin, called by clients and
 * 3bots that need capacity only a standby node has): one route, `farmerbot.power.wake`.
 *
 * @example
 * ```ts
 * import { FARMERBOT_WAKE, wakeRequestSchema } from "@zgrid/types";
 * await bus.request(farmTwinId, FARMERBOT_WAKE.name, { node_id: 3 });   // { node_id: 3, state: "waking" }
 * ```
 */
import { z } from "zod";

export const wakeRequestSchema = z.object({
  node_id: z.number({ error: "a positive integer node id" }).int("a positive integer node id").min(1, "a positive integer node id").max(2 ** 32 - 1, "a positive integer node id"),
});
export const wakeAnswerSchema = z.object({ node_id: z.number().int().min(1), state: z.enum(["up", "waking"]) });
export type WakeRequest = z.output<typeof wakeRequestSchema>;
export type WakeAnswer = z.output<typeof wakeAnswerSchema>;

export const FARMERBOT_WAKE = { name: "farmerbot.power.wake", request: wakeRequestSchema, response: wakeAnswerSchema } as const;
