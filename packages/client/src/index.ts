// @zgrid/client public API. See README.md.
export * from "./errors/client-errors.ts";
export * from "./connect/grid-connection.ts";
export * from "./grid.ts";
export * from "./format.ts";
export { NodeFinder, type NodeInfo, type NodeFilter, type Resources } from "./nodes/node-finder.ts";
export { DeployTransaction, type DeployRequest, type ProgressFn } from "./deploy/deployer.ts";
export { ContractService, type ContractInfo } from "./contracts/contract-service.ts";
export { NetworkService, accessSubnet, defaultIpRange, subnetFor, type NetworkAccess, type NetworkInfo, type NetworkPart } from "./networks/network-service.ts";
export { VmService, checkFlist, type VmInfo, type DeployOptions } from "./vms/vm-service.ts";
export { vmModelSchema, vmWorkloads, vmNeeds, type VmModel, type VmModelInput } from "./models/vm-model.ts";
export { encodeMetadata, parseMetadata, type ContractMetadata } from "./models/contract-metadata.ts";
export * from "./spec/spec-file.ts";
export * from "./spec/apply-spec.ts";
export { GatewayService, type GatewayInfo } from "./gateways/gateway-service.ts";
export { ErasureStore, ErasureStoreError, type ErasureManifest, type ErasureStoreOptions, type ManifestBlock } from "./storage/erasure-store.ts";
export { storageKeyOf, sealBlock, openBlock, BlockIntegrityError } from "./storage/block-seal.ts";
export { ZdbTarget, type ZdbTargetInfo } from "./storage/zdb-target.ts";
export { ZdbNamespaces, type ZdbInfo, type ZdbCreateOptions } from "./zdbs/zdb-service.ts";
