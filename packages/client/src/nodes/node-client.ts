/**
 * The typed client of one node's bus API: every call a client makes to a node goes through here,
 * by route key of the table in @zgrid/types (no route names or payload shapes anywhere else), and
 * the answers the client reads fields of are checked against the route's response schema.
 *
 * @example
 * ```ts
 * const node = nodeClient(await grid.bus(), nodeTwinId);
 * await node.deploy(signedDeployment);
 * const d = await node.get(12, { timeout: 8_000 });
 * const { free } = await node.statistics();
 * ```
 */
import type { Bus } from "@zgrid/bus";
import type { Deployment, NodeApi, NodeRouteKey, VmLogs } from "@zgrid/types";
// the zod-free half of the route table: the schemas load with the first answer that needs checking
import { ANSWER_CHECKED, ROUTE_NAME_OF } from "@zgrid/types/node-routes";

export interface CallOptions {
  /** Milliseconds to wait for the answer (the bus default otherwise). */
  timeout?: number;
}

export interface NodeClient {
  /** The node's twin id (its bus address). */
  readonly twinId: number;
  deploy(signed: Deployment, o?: CallOptions): Promise<NodeApi["deploy"]["response"]>;
  update(signed: Deployment, o?: CallOptions): Promise<NodeApi["update"]["response"]>;
  get(contractId: number, o?: CallOptions): Promise<Deployment>;
  list(o?: CallOptions): Promise<Deployment[]>;
  changes(contractId: number, o?: CallOptions): Promise<NodeApi["changes"]["response"]>;
  statistics(o?: CallOptions): Promise<NodeApi["statistics"]["response"]>;
  version(o?: CallOptions): Promise<NodeApi["version"]["response"]>;
  features(o?: CallOptions): Promise<string[]>;
  wireguardPorts(o?: CallOptions): Promise<number[]>;
  privateIps(network: string, o?: CallOptions): Promise<string[]>;
  /** A zmachine's console (also of a stopped or crashed VM) and run state; `offset` to follow. */
  vmLogs(request: NodeApi["vmLogs"]["request"], o?: CallOptions): Promise<VmLogs>;
  /** stop | start | restart a zmachine; answers its state and last console bytes. */
  vmAction(request: NodeApi["vmAction"]["request"], o?: CallOptions): Promise<VmLogs>;
  /** Runs a command in the owner's running zmachine (guest agent): bounded output, exit code. */
  vmExec(request: NodeApi["vmExec"]["request"], o?: CallOptions): Promise<NodeApi["vmExec"]["response"]>;
  /** Opens a streamed exec (a terminal with `tty`, else a stdin pipe) in the owner's running zmachine. */
  vmExecOpen(request: NodeApi["vmExecOpen"]["request"], o?: CallOptions): Promise<NodeApi["vmExecOpen"]["response"]>;
  /** Stdin / EOF / resize / signal / close for a session; answers its output since the last call, and the exit. */
  vmExecIo(request: NodeApi["vmExecIo"]["request"], o?: CallOptions): Promise<NodeApi["vmExecIo"]["response"]>;
  /** A tcp/http health check of the owner's zmachine, made by its node inside the twin's network. */
  vmProbe(request: NodeApi["vmProbe"]["request"], o?: CallOptions): Promise<NodeApi["vmProbe"]["response"]>;
  /** Farm twin only: the idle, unrented node reports standby and powers off (refused otherwise). */
  powerOff(reason?: string, o?: CallOptions): Promise<NodeApi["powerOff"]["response"]>;
  /** The node's own power-state durations (on/off seconds, reserved vCPU-seconds, wakes). */
  powerDurations(o?: CallOptions): Promise<NodeApi["powerDurations"]["response"]>;
  /** Owner only: a crash-consistent snapshot of one of its zmount disks, to read in chunks (disk backups). */
  diskSnapshotOpen(request: NodeApi["diskSnapshotOpen"]["request"], o?: CallOptions): Promise<NodeApi["diskSnapshotOpen"]["response"]>;
  /** At most DISK_CHUNK_MAX bytes of an open snapshot (base64; `zero` for an all-zero chunk). */
  diskSnapshotRead(request: NodeApi["diskSnapshotRead"]["request"], o?: CallOptions): Promise<NodeApi["diskSnapshotRead"]["response"]>;
  /** Drops a snapshot (the node also drops it after a while idle). */
  diskSnapshotClose(request: NodeApi["diskSnapshotClose"]["request"], o?: CallOptions): Promise<NodeApi["diskSnapshotClose"]["response"]>;
  /** Owner only, while no VM runs on the disk: writes (base64) bytes into it; `reset` empties it first (a restore). */
  diskWrite(request: NodeApi["diskWrite"]["request"], o?: CallOptions): Promise<NodeApi["diskWrite"]["response"]>;
}

/** A typed client of the node whose twin is `nodeTwinId`, over `bus`. */
export function nodeClient(bus: Pick<Bus, "request">, nodeTwinId: number): NodeClient {
  const call = async <K extends NodeRouteKey>(key: K, request: NodeApi[K]["request"], o: CallOptions = {}): Promise<NodeApi[K]["response"]> => {
    const answer = await bus.request(nodeTwinId, ROUTE_NAME_OF[key], request, o.timeout !== undefined ? { timeout: o.timeout } : {});
    if (!ANSWER_CHECKED.has(key)) return answer as NodeApi[K]["response"];
    const { parseNodeResponse } = await import("@zgrid/types");
    return parseNodeResponse(key, answer);
  };
  return {
    twinId: nodeTwinId,
    deploy: (signed, o) => call("deploy", signed, o),
    update: (signed, o) => call("update", signed, o),
    get: (contractId, o) => call("get", { contract_id: contractId }, o),
    list: (o) => call("list", {}, o),
    changes: (contractId, o) => call("changes", { contract_id: contractId }, o),
    statistics: (o) => call("statistics", {}, o),
    version: (o) => call("version", {}, o),
    features: (o) => call("features", {}, o),
    wireguardPorts: (o) => call("wireguardPorts", {}, o),
    privateIps: (network, o) => call("privateIps", { network_name: network }, o),
    vmLogs: (request, o) => call("vmLogs", request, o),
    vmAction: (request, o) => call("vmAction", request, o),
    vmExec: (request, o) => call("vmExec", request, o),
    vmExecOpen: (request, o) => call("vmExecOpen", request, o),
    vmExecIo: (request, o) => call("vmExecIo", request, o),
    vmProbe: (request, o) => call("vmProbe", request, o),
    powerOff: (reason, o) => call("powerOff", { reason: reason ?? "" }, o),
    powerDurations: (o) => call("powerDurations", {}, o),
    diskSnapshotOpen: (request, o) => call("diskSnapshotOpen", request, o),
    diskSnapshotRead: (request, o) => call("diskSnapshotRead", request, o),
    diskSnapshotClose: (request, o) => call("diskSnapshotClose", request, o),
    diskWrite: (request, o) => call("diskWrite", request, o),
  };
}
