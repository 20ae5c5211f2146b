// @zgrid/zos public API.
export * from "./hypervisor/index.ts";
export { ZOSD_ENV, ZOSD_NODE_FLAGS, ZOSD_NODE_OPTIONS, ZOSD_PRELOADS } from "./daemon/zosd-node-flags.ts";
export { startZosDaemon, ZOS_VERSION, NodeNotFundedError, type ZosDaemon } from "./daemon/zos-daemon.ts";
export { parseZosConfig, zosConfigSchema, ZosConfigError, type ZosConfig, type ZosConfigInput } from "./daemon/zos-config.ts";
export { ProvisionEngine, isDeleted, type EngineOptions } from "./engine/provision-engine.ts";
export { verifyDeployment } from "./engine/verify-deployment.ts";
export * from "./engine/engine-errors.ts";
export type { NodeChain, ChainContract, ChainTwin } from "./engine/node-chain.ts";
export type { WorkloadManager, WorkloadContext, ManagerMap } from "./engine/workload-manager.ts";
export { openDeploymentStore, type DeploymentStore, type WorkloadChange } from "./engine/deployment-store.ts";
export { chainTwinDirectory } from "@zgrid/chain/client";
export { loadNodeIdentity } from "./node/node-identity.ts";
export { networkNames, nodePaths } from "./primitives/node-paths.ts";
export { planNetwork, generateWgKeyPair, wgKeyPairFromPrivate, subnetOf, type NetworkPlan, type PlannedNode, type PlanNodeInput, type NetworkWorkloadData, type NetworkPeer, type WgKeyPair } from "@zgrid/types";
export { createUnderlay, createNodeHost, PUBLIC_BRIDGE, type Underlay, type UnderlayOptions, type NodeHost } from "./underlay/underlay.ts";
export { HaproxyGateway, type GatewayRoute } from "./primitives/gateway/haproxy-gateway.ts";
export { ConsoleStreamer } from "./primitives/zlogs/console-streamer.ts";
export { ZdbService, type ZdbServiceOptions } from "./primitives/zdb/zdb-service.ts";
