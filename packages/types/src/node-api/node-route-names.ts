/**
 * The node API's route names by key, and the keys whose answers a client checks against a schema:
 * the zod-free half of the route table (node-api.ts builds `NODE_ROUTES` from it). A read command
 * (`zgrid vm ls`) loads this and not the schemas: loading zod and every workload's schema was a
 * fifth of its start-up (issue 14). A test keeps both halves in step.
 *
 * @example
 * ```ts
 * import { ROUTE_NAME_OF, ANSWER_CHECKED } from "@zgrid/types/node-routes";
 * ROUTE_NAME_OF.get;            // "zos.deployment.get"
 * ANSWER_CHECKED.has("get");    // false: the answer is used as the node's own deployment
 * ```
 */

/** Route name by key. */
export const ROUTE_NAME_OF = {
  deploy: "zos.deployment.deploy",
  update: "zos.deployment.update",
  get: "zos.deployment.get",
  list: "zos.deployment.list",
  changes: "zos.deployment.changes",
  statistics: "zos.statistics.get",
  version: "zos.system.version",
  features: "zos.system.node_features_get",
  wireguardPorts: "zos.network.list_wg_ports",
  privateIps: "zos.network.list_private_ips",
  vmLogs: "zos.zmachine.logs",
  vmAction: "zos.zmachine.action",
  vmExec: "zos.zmachine.exec",
  vmExecOpen: "zos.zmachine.exec_open",
  vmExecIo: "zos.zmachine.exec_io",
  vmProbe: "zos.zmachine.probe",
  powerOff: "zos.system.power_off",
  powerDurations: "zos.system.power_durations",
  diskSnapshotOpen: "zos.zmount.snapshot_open",
  diskSnapshotRead: "zos.zmount.snapshot_read",
  diskSnapshotClose: "zos.zmount.snapshot_close",
  diskWrite: "zos.zmount.write",
} as const;

/** Keys whose answers the client checks against the route's response schema (it reads their fields). */
export const ANSWER_CHECKED: ReadonlySet<keyof typeof ROUTE_NAME_OF> = new Set([
  "changes", "statistics", "version", "features", "wireguardPorts", "privateIps",
  "vmLogs", "vmAction", "vmExec", "vmExecOpen", "vmExecIo", "vmProbe", "powerOff", "powerDurations",
  "diskSnapshotOpen", "diskSnapshotRead", "diskSnapshotClose", "diskWrite",
]);
