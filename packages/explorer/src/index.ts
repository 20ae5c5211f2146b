// @zgrid/explorer — chain indexer, node liveness, REST API, dashboard, metrics. See README.md.
export * from "./explorer.ts";
export * from "./explorer-twin.ts";
export * from "./db/db.ts";
export { migrate } from "./db/schema.ts";
export * from "./indexer/chain-source.ts";
export * from "./indexer/indexer.ts";
export * from "./liveness/liveness.ts";
export { startApiServer, type ApiServer } from "./api/server.ts";
export { openApiDocument } from "./api/openapi.ts";
export type { StatusWindows } from "./api/queries.ts";
