/**
 * @zgrid/bot — long-running agents of the grid.
 *
 * - the 3bot (`src/threebot/`): a twin's own agent keeping its deployments alive (issue 16);
 * - the farmerbot (`src/farmer/`): a farm's agent powering idle nodes off and waking them (issue 20).
 *
 * Each part exports its public API from here.
 */
export const BOT_PACKAGE = "@zgrid/bot";

// farmerbot (src/farmer/)
export * from "./farmer/index.ts";
