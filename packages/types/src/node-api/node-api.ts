/**
 * The node's bus API (REFERENCE.md "Node API") as one table: each route's name, the zod schema of
 * its request (checked by the node, it comes off the wire from any twin) and of its response where
 * the client reads fields of it, and the request/response types. The daemon registers its handlers
 * from this table (a handler per key, checked by the compiler) and the client's typed node client
 * calls through it, so neither side spells a route name.
 *
 * @example
 * ```ts
 * import { NODE_ROUTES, type NodeApi } from "@zgrid/types";
 * NODE_ROUTES.get.name;                                 // "zos.deployment.get"
 * NODE_ROUTES.get.request.parse({ contract_id: 12 });    // { contract_id: 12 }
 * type Stats = NodeApi["statistics"]["response"];        // NodeStatistics
 * ```
 */
import { z } from "zod";
import type { Capacity } from "../capacity/capacity.ts";
import type { Deployment, ResultState } from "../deployment/deployment.ts";
import { RESULT_STATES } from "../deployment/deployment.ts";
import { mapZodIssues } from "../deployment/map-zod-issues.ts";
import { vmExecIoAnswerSchema, vmExecIoRequestSchema, vmExecOpenAnswerSchema, vmExecOpenRequestSchema, type VmExecIoAnswer } from "./vm-exec-session-api.ts";
import { ValidationError } from "../errors/validation-error.ts";
import { diskChunkSchema, diskSnapshotCloseRequestSchema, diskSnapshotCloseSchema, diskSnapshotOpenRequestSchema, diskSnapshotReadRequestSchema, diskSnapshotSchema, diskWriteRequestSchema, diskWriteSchema, type DiskChunk, type DiskSnapshot } from "./disk-snapshot-api.ts";
import { ROUTE_NAME_OF } from "./node-route-names.ts";

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const capacitySchema = z.object({ cru: count, mru: count, sru: count, hru: count, ipv4u: count });

/** `{ contract_id }` of one of the caller's deployments. */
export const contractIdRequestSchema = z.object({
  contract_id: z.number({ error: "a positive integer contract id" }).int("a positive integer contract id")
    .min(1, "a positive integer contract id").max(Number.MAX_SAFE_INTEGER, "a positive integer contract id"),
});
/** `{ network_name }` of one of the caller's networks. */
export const networkNameRequestSchema = z.object({
  network_name: z.string({ error: "the name of one of your networks" }).min(1, "the name of one of your networks").max(256, "at most 256 characters"),
});
/** Routes without a request body take anything (the bus sends `{}` or null). */
export const noRequestSchema = z.unknown().transform(() => ({}));
/** The deployment (deploy/update): parsed by `parseDeployment` on the node, so not a zod schema here. */
export const deploymentRequestSchema = z.unknown();

/** Capacity a node has (total), gives its system (system), holds for workloads (used), and can still sell (free). */
export const nodeStatisticsSchema = z.object({
  total: capacitySchema,
  used: capacitySchema,
  system: capacitySchema,
  /** total − system − used per resource, with vCPUs counted after the node's CPU overcommit. */
  free: capacitySchema,
  /**
   * `movable_deployments`: live deployments whose owner consented to be re-placed (their metadata
   * says `"movable":true`, see `isMovableMetadata`): the farmerbot may ask for such a node to be
   * vacated. Absent from older nodes: 0 (nothing movable).
   */
  users: z.object({ deployments: count, workloads: count, movable_deployments: count.default(0) }),
});
export interface NodeStatistics {
  total: Capacity;
  used: Capacity;
  system: Capacity;
  free: Capacity;
  users: { deployments: number; workloads: number; movable_deployments: number };
}

/** A recorded workload state change (`zos.deployment.changes`). */
export interface WorkloadChange {
  contract_id: number;
  name: string;
  type: string;
  version: number;
  state: ResultState;
  message: string;
  /** Unix seconds. */
  at: number;
}
export const workloadChangeSchema = z.object({
  contract_id: count, name: z.string(), type: z.string(), version: count,
  state: z.enum(RESULT_STATES), message: z.string(), at: count,
});

export interface Accepted { contract_id: number; accepted: true }

/** `{ contract_id, name }` of one of the caller's zmachines. */
const vmRef = {
  contract_id: contractIdRequestSchema.shape.contract_id,
  name: z.string({ error: "the name of a zmachine workload" }).regex(/^[a-zA-Z0-9_]{1,36}$/, "the name of a zmachine workload"),
};
/** Console bytes a node sends per `vmLogs` call at most. */
export const VM_LOG_CHUNK_MAX = 256 * 1024;
export const vmLogsRequestSchema = z.object({
  ...vmRef,
  /** Byte offset in the console log to read from (follow); absent: the last `max_bytes`. */
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  max_bytes: z.number().int().min(1).max(VM_LOG_CHUNK_MAX).default(16 * 1024),
});
/** How a VM runs on its node, with its console (also for stopped and crashed VMs). */
export interface VmLogs {
  /** Console text from `offset` to `offset + log.length` bytes (UTF-8, lossy at cut points). */
  log: string;
  offset: number;
  /** Size of the console log now: the next `offset` when following. */
  size: number;
  state: "running" | "paused" | "stopped" | "unknown";
  /** Why the VM is not running (the app's exit status, a crash, "stopped by the owner"). */
  reason: string;
  /** The image's HEALTHCHECK as the node runs it in the guest (only where one exists, while running). */
  health?: { status: "starting" | "healthy" | "unhealthy"; failing_streak: number; last_output: string };
}
export const vmLogsSchema = z.object({
  log: z.string().max(4 * VM_LOG_CHUNK_MAX), offset: count, size: count,
  state: z.enum(["running", "paused", "stopped", "unknown"]), reason: z.string().max(2000),
  health: z.object({ status: z.enum(["starting", "healthy", "unhealthy"]), failing_streak: count, last_output: z.string().max(16_384) }).optional(),
});
export const VM_ACTIONS = ["stop", "start", "restart"] as const;
export const vmActionRequestSchema = z.object({
  ...vmRef,
  action: z.enum(VM_ACTIONS, { error: "stop, start or restart" }),
});
/** Output bytes (stdout + stderr) a node returns per `vmExec` at most; past it the command is killed. */
export const VM_EXEC_OUTPUT_MAX = 128 * 1024;
/** Longest time limit of one `vmExec` (seconds). */
export const VM_EXEC_TIMEOUT_MAX_SEC = 600;
/** Bytes of stdin a `vmExec` can carry (sent whole with the request, base64; the command then reads EOF). */
export const VM_EXEC_STDIN_MAX = 32 * 1024;
/** `zos.zmachine.exec`: run a command in the owner's running zmachine through its guest agent. */
export const vmExecRequestSchema = z.object({
  ...vmRef,
  argv: z.array(z.string().max(8192, "each command word at most 8192 bytes").regex(/^[^\0]*$/, "no NUL bytes"), { error: "the command: a list of words" })
    .min(1, "the command needs at least one word").max(256, "at most 256 command words"),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "env keys are [A-Za-z_][A-Za-z0-9_]*"), z.string().max(8192).regex(/^[^\0]*$/))
    .refine((e) => Object.keys(e).length <= 64, "at most 64 env entries").optional(),
  workdir: z.string().regex(/^\/[^\0\n]{0,1023}$/, "an absolute path").optional(),
  user: z.string().regex(/^[^\0\n\s:]{1,64}(:[^\0\n\s:]{1,64})?$/, "name|uid[:group|gid]").optional(),
  timeout_sec: z.number().int().min(1).max(VM_EXEC_TIMEOUT_MAX_SEC, `at most ${VM_EXEC_TIMEOUT_MAX_SEC} s`).default(60),
  /** The command's stdin, base64 (at most VM_EXEC_STDIN_MAX bytes); absent: /dev/null. */
  stdin: z.string().max(Math.ceil(VM_EXEC_STDIN_MAX / 3) * 4, `stdin at most ${VM_EXEC_STDIN_MAX} bytes`).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64").optional(),
}).refine((r) => r.argv.reduce((n, a) => n + a.length + 1, 0) + Object.entries(r.env ?? {}).reduce((n, [k, v]) => n + k.length + v.length + 2, 0) + (r.stdin?.length ?? 0) <= 60_000,
  "the command, its env and its stdin are at most 60000 bytes");
/** The end of a command run by `vmExec`. */
export interface VmExecResult {
  /** Exit status, or null when a signal ended it. */
  exit_code: number | null;
  signal: number | null;
  timed_out: boolean;
  /** Output past VM_EXEC_OUTPUT_MAX was cut (and the command killed). */
  truncated: boolean;
  stdout: string;
  stderr: string;
}
export const vmExecResultSchema = z.object({
  exit_code: z.number().int().min(0).max(255).nullable(), signal: z.number().int().min(1).max(64).nullable(),
  timed_out: z.boolean(), truncated: z.boolean(),
  stdout: z.string().max(4 * VM_EXEC_OUTPUT_MAX), stderr: z.string().max(4 * VM_EXEC_OUTPUT_MAX),
});
/** Longest time one `vmProbe` may take (ms). */
export const VM_PROBE_TIMEOUT_MAX_MS = 5_000;
/**
 * `zos.zmachine.probe`: a health check of the owner's zmachine made by its node from inside the
 * twin's network namespace, to the VM's own private IP only (never an address the caller names):
 * `tcp` connects to `port`; `http` sends `GET path` and reads the status line (200–399 is ok).
 */
export const vmProbeRequestSchema = z.object({
  ...vmRef,
  type: z.enum(["tcp", "http"], { error: "tcp or http" }),
  port: z.number({ error: "a TCP port 1–65535" }).int("a TCP port 1–65535").min(1, "a TCP port 1–65535").max(65535, "a TCP port 1–65535"),
  path: z.string().regex(/^\/[\x21-\x7e]{0,255}$/, "an absolute URL path of printable characters, at most 256").default("/"),
  timeout_ms: z.number().int().min(100, "at least 100 ms").max(VM_PROBE_TIMEOUT_MAX_MS, `at most ${VM_PROBE_TIMEOUT_MAX_MS} ms`).default(2_000),
});
/** What a `vmProbe` found. */
export interface VmProbeResult {
  ok: boolean;
  /** How long it took (ms). */
  ms: number;
  /** http: the status code answered (absent when none came). */
  status?: number;
  /** Why it failed, or the status line (bounded). */
  detail: string;
}
export const vmProbeResultSchema = z.object({
  ok: z.boolean(), ms: count, status: z.number().int().min(100).max(999).optional(), detail: z.string().max(512),
});
/**
 * `zos.system.power_off`: the node's farm twin (only) asks the node to power off. The node refuses
 * while it holds workloads or is rented; otherwise it drains (refuses new deployments), reports
 * `standby` on chain and powers off through its power switch after answering.
 */
export const powerOffRequestSchema = z.object({
  /** Free text for the node's log (why the farm powers it off). */
  reason: z.string().max(256).default(""),
}).default({ reason: "" });
export interface PowerOffAnswer {
  node_id: number;
  /** Always `standby`: the chain shows it before the machine goes off. */
  state: "standby";
  /** The power switch the node uses (`acpi`, `bmc` = local grid's simulated one). */
  switch: string;
}
export const powerOffAnswerSchema = z.object({ node_id: count, state: z.literal("standby"), switch: z.string().max(32) });
/**
 * `zos.system.power_durations`: the node's own power-state durations (kept by the node across
 * power-offs; the farmerbot's energy ledgers read them). Seconds; `since` is unix seconds.
 */
export interface PowerDurations {
  node_id: number;
  /** When the node started counting (its first start with this data dir). */
  since: number;
  on_seconds: number;
  off_seconds: number;
  /** vCPUs its workloads reserved × seconds, while on. */
  reserved_core_seconds: number;
  /** Times it came back on after a power-off, and times it powered off. */
  wakes: number;
  power_offs: number;
}
const seconds = z.number().min(0).max(1e13);
export const powerDurationsSchema = z.object({
  node_id: count, since: seconds, on_seconds: seconds, off_seconds: seconds, reserved_core_seconds: z.number().min(0).max(1e16), wakes: count, power_offs: count,
});

/** Request and response type of every route, by key. */
export interface NodeApi {
  deploy: { request: Deployment; response: Accepted };
  update: { request: Deployment; response: Accepted };
  get: { request: { contract_id: number }; response: Deployment };
  list: { request: Record<string, never>; response: Deployment[] };
  changes: { request: { contract_id: number }; response: WorkloadChange[] };
  statistics: { request: Record<string, never>; response: NodeStatistics };
  version: { request: Record<string, never>; response: { zos: string; zinit: string } };
  features: { request: Record<string, never>; response: string[] };
  wireguardPorts: { request: Record<string, never>; response: number[] };
  privateIps: { request: { network_name: string }; response: string[] };
  vmLogs: { request: z.input<typeof vmLogsRequestSchema>; response: VmLogs };
  vmAction: { request: z.input<typeof vmActionRequestSchema>; response: VmLogs };
  vmExec: { request: z.input<typeof vmExecRequestSchema>; response: VmExecResult };
  vmExecOpen: { request: z.input<typeof vmExecOpenRequestSchema>; response: { session: string } };
  vmExecIo: { request: z.input<typeof vmExecIoRequestSchema>; response: VmExecIoAnswer };
  vmProbe: { request: z.input<typeof vmProbeRequestSchema>; response: VmProbeResult };
  powerOff: { request: { reason: string }; response: PowerOffAnswer };
  powerDurations: { request: Record<string, never>; response: PowerDurations };
  diskSnapshotOpen: { request: z.input<typeof diskSnapshotOpenRequestSchema>; response: DiskSnapshot };
  diskSnapshotRead: { request: z.input<typeof diskSnapshotReadRequestSchema>; response: DiskChunk };
  diskSnapshotClose: { request: z.input<typeof diskSnapshotCloseRequestSchema>; response: { closed: boolean } };
  diskWrite: { request: z.input<typeof diskWriteRequestSchema>; response: { written: number; size: number } };
}
export type NodeRouteKey = keyof NodeApi;

interface RouteSpec {
  name: string;
  request: z.ZodType;
  /** Set where the client reads fields of the answer (it comes off the wire from the node). */
  response?: z.ZodType;
}

/** Route names and schemas, by key. */
export const NODE_ROUTES = {
  deploy: { name: ROUTE_NAME_OF.deploy, request: deploymentRequestSchema },
  update: { name: ROUTE_NAME_OF.update, request: deploymentRequestSchema },
  get: { name: ROUTE_NAME_OF.get, request: contractIdRequestSchema },
  list: { name: ROUTE_NAME_OF.list, request: noRequestSchema },
  changes: { name: ROUTE_NAME_OF.changes, request: contractIdRequestSchema, response: z.array(workloadChangeSchema).max(100_000) },
  statistics: { name: ROUTE_NAME_OF.statistics, request: noRequestSchema, response: nodeStatisticsSchema },
  version: { name: ROUTE_NAME_OF.version, request: noRequestSchema, response: z.object({ zos: z.string(), zinit: z.string() }) },
  features: { name: ROUTE_NAME_OF.features, request: noRequestSchema, response: z.array(z.string().max(64)).max(256) },
  wireguardPorts: { name: ROUTE_NAME_OF.wireguardPorts, request: noRequestSchema, response: z.array(z.number().int().min(0).max(65535)).max(65536) },
  privateIps: { name: ROUTE_NAME_OF.privateIps, request: networkNameRequestSchema, response: z.array(z.string().max(64)).max(65536) },
  vmLogs: { name: ROUTE_NAME_OF.vmLogs, request: vmLogsRequestSchema, response: vmLogsSchema },
  vmAction: { name: ROUTE_NAME_OF.vmAction, request: vmActionRequestSchema, response: vmLogsSchema },
  vmExec: { name: ROUTE_NAME_OF.vmExec, request: vmExecRequestSchema, response: vmExecResultSchema },
  vmExecOpen: { name: ROUTE_NAME_OF.vmExecOpen, request: vmExecOpenRequestSchema, response: vmExecOpenAnswerSchema },
  vmExecIo: { name: ROUTE_NAME_OF.vmExecIo, request: vmExecIoRequestSchema, response: vmExecIoAnswerSchema },
  vmProbe: { name: ROUTE_NAME_OF.vmProbe, request: vmProbeRequestSchema, response: vmProbeResultSchema },
  powerOff: { name: ROUTE_NAME_OF.powerOff, request: powerOffRequestSchema, response: powerOffAnswerSchema },
  powerDurations: { name: ROUTE_NAME_OF.powerDurations, request: noRequestSchema, response: powerDurationsSchema },
  diskSnapshotOpen: { name: ROUTE_NAME_OF.diskSnapshotOpen, request: diskSnapshotOpenRequestSchema, response: diskSnapshotSchema },
  diskSnapshotRead: { name: ROUTE_NAME_OF.diskSnapshotRead, request: diskSnapshotReadRequestSchema, response: diskChunkSchema },
  diskSnapshotClose: { name: ROUTE_NAME_OF.diskSnapshotClose, request: diskSnapshotCloseRequestSchema, response: diskSnapshotCloseSchema },
  diskWrite: { name: ROUTE_NAME_OF.diskWrite, request: diskWriteRequestSchema, response: diskWriteSchema },
} as const satisfies Record<NodeRouteKey, RouteSpec>;

/** Every route name the node serves. */
export const NODE_ROUTE_NAMES: readonly string[] = Object.values(NODE_ROUTES).map((r) => r.name);

type Routes = typeof NODE_ROUTES;
type ResponseSchemaOf<K extends NodeRouteKey> = Routes[K] extends { response: z.ZodType } ? Routes[K]["response"] : undefined;

/**
 * A route's request checked against its schema (the node does this before any handler runs);
 * ValidationError naming the field otherwise.
 */
export function parseNodeRequest<K extends NodeRouteKey>(key: K, payload: unknown): z.output<Routes[K]["request"]> {
  // A missing body reads as {} so the error names the field the route needs.
  const input: unknown = payload === null || payload === undefined ? {} : payload;
  const r = NODE_ROUTES[key].request.safeParse(input);
  if (!r.success) throw new ValidationError(mapZodIssues(r.error, input, {}));
  return r.data as z.output<Routes[K]["request"]>;
}

/**
 * A node's answer checked against the route's response schema where it has one (a node is another
 * party: the client never trusts the shape); ValidationError naming the field otherwise.
 */
export function parseNodeResponse<K extends NodeRouteKey>(key: K, value: unknown): NodeApi[K]["response"] {
  const schema = (NODE_ROUTES[key] as RouteSpec).response as ResponseSchemaOf<K> | undefined;
  if (!schema) return value as NodeApi[K]["response"];
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(mapZodIssues(r.error, value, { prefix: `${NODE_ROUTES[key].name} answer` }));
  return r.data as NodeApi[K]["response"];
}
