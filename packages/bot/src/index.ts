/**
 * @zgrid/bot — long-running agents of the grid.
 *
 * - the 3bot (`src/threebot/`): a twin's own agent keeping its deployments alive (issue 16);
 * - the farmerbot (`src/farmer/`): a farm's agent powering idle nodes off and waking them (issue 20).
 *
 * Each part exports its public API from here.
 */
export const BOT_PACKAGE = "@zgrid/bot";

// the 3bot (issue 16)
export { startThreebot, applyToStore, type Threebot, type ThreebotOptions, type BotStatus } from "./threebot/threebot.ts";
export { openBotStore, type BotStore, type BotEvent, type BotOp, type DiskBackupRecord, type DiskRestoreRecord, type InPlaceRecord } from "./threebot/bot-store.ts";
export { NodeLiveness, type LivenessOptions, type LivenessDeps, type NodeState } from "./threebot/node-liveness.ts";
export { parseBotSpec, replicaHash, serviceNetwork, serviceProject, type BotSpec, type ServiceSpec, type ServiceSpecInput } from "./threebot/service-spec.ts";
export { BotInputError, BotForbiddenError } from "./threebot/bot-errors.ts";
export { BotDataLossError, checkServiceDataLoss, diskLoss } from "./threebot/rolling-inplace.ts";
export { BOT_EVENTS, BOT_STATUS, askBot, botKeyOf, serveBotBus, type BotBusSource } from "./threebot/bot-bus.ts";
export type { ServiceView } from "./threebot/reconcile-service.ts";
export type { Replica, ReplicaState } from "./threebot/observe.ts";
export { createBotMetrics, serveBotMetrics, type BotMetrics, type HealOutcome } from "./metrics/bot-metrics.ts";
// farmerbot (src/farmer/)
export * from "./farmer/index.ts";
