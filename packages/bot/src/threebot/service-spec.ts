/**
 * The desired state a 3bot keeps: services, each a set of identical replicas (zmachines) on one
 * private network, optionally published by one name gateway over all healthy replicas.
 *
 * @example
 * ```ts
 * const s = parseBotSpec({ services: [{ name: "web", flist, replicas: 2, gateway: { name: "shop", port: 80 } }] });
 * s.services[0].placement; // "spread"
 * ```
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { BotInputError } from "./bot-errors.ts";

const NAME = /^[a-z][a-z0-9]{1,15}$/;
const PORT = z.number().int().min(1).max(65535);
const TIMEOUT_MS = z.number().int().min(100).max(5_000).default(2_000);
const RETRIES = z.number().int().min(1).max(20).default(3);
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Backups at most every 5 minutes, at least every 30 days. */
export const BACKUP_INTERVAL_MS = { min: 5 * 60_000, max: 30 * 86_400_000 };
const INTERVAL_HINT = 'an interval like "30m", "6h" or "1d" (5m to 30d)';

/** `"30m" | "6h" | "1d"` → ms (5 min to 30 days); the zod issue says what is wrong. */
export const backupIntervalSchema = z.string({ error: INTERVAL_HINT }).max(8, INTERVAL_HINT).regex(/^[1-9][0-9]{0,4}[mhd]$/, INTERVAL_HINT)
  .transform((v) => Number(v.slice(0, -1)) * UNIT_MS[v.slice(-1) as keyof typeof UNIT_MS])
  .refine((ms) => ms >= BACKUP_INTERVAL_MS.min && ms <= BACKUP_INTERVAL_MS.max, INTERVAL_HINT);

/**
 * A disk (zmount) of each replica. With `backup`, the 3bot snapshots it every interval to the
 * twin's hub (encrypted with a key derived from the twin key; see packages/bot/README.md).
 */
export const serviceDiskSchema = z.strictObject({
  name: z.string().regex(NAME, "2 to 16 of a-z 0-9, starting with a letter"),
  /** MiB. */
  size: z.number().int().min(1).max(4 * 1024 * 1024),
  mountpoint: z.string().regex(/^\/[A-Za-z0-9._/-]{0,255}$/, "an absolute path"),
  backup: backupIntervalSchema.optional(),
});

export const serviceSpecSchema = z.strictObject({
  /** 2–16 of a-z 0-9: replica names are `<name>_<generation>` (a VM name). */
  name: z.string().regex(NAME, "2 to 16 of a-z 0-9, starting with a letter"),
  flist: z.string().min(1).max(1024),
  cpu: z.number().int().min(1).max(32).default(1),
  /** MiB. */
  memory: z.number().int().min(250).max(256 * 1024).default(256),
  rootfs: z.number().int().min(0).max(1024 * 1024).default(0),
  /** Data disks of each replica (at most 4), optionally backed up (`backup: "6h"`). */
  disks: z.array(serviceDiskSchema).max(4).refine((d) => new Set(d.map((x) => x.name)).size === d.length, "disk names must be unique").default([]),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.string().max(4096)).refine((e) => Object.keys(e).length <= 64, "at most 64 variables").default({}),
  /** The app's command (argv) in place of the flist's own; absent: the flist's. */
  entrypoint: z.array(z.string().min(1).max(1024)).min(1).max(32).optional(),
  replicas: z.number().int().min(1).max(16).default(1),
  /** spread: each replica on a different node (and farm when possible); pack: fill nodes in order. */
  placement: z.enum(["spread", "pack"]).default("spread"),
  /** Never two replicas on one node (also while healing: a node without a replica is picked). */
  anti_affinity: z.boolean().default(true),
  /** Nodes the service may use (default: any up node). */
  nodes: z.array(z.number().int().min(1)).max(256).optional(),
  /**
   * state: the node reports the zmachine running (always checked). tcp/http: the node connects
   * from inside the twin's network to the replica (`zos.zmachine.probe`); exec: a command in the
   * VM (guest agent) exits 0. `retries` failures in a row make a replica that passed before
   * unhealthy (replaced); one that never passed has the start timeout.
   */
  health: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("state") }),
    z.strictObject({ type: z.literal("tcp"), port: PORT, timeout_ms: TIMEOUT_MS, retries: RETRIES }),
    z.strictObject({ type: z.literal("http"), port: PORT.default(80), path: z.string().regex(/^\/[\x21-\x7e]{0,255}$/, "an absolute URL path").default("/"), timeout_ms: TIMEOUT_MS, retries: RETRIES }),
    z.strictObject({
      type: z.literal("exec"),
      command: z.array(z.string().min(1).max(1024)).min(1).max(32),
      timeout_sec: z.number().int().min(1).max(30).default(5),
      retries: RETRIES,
    }),
  ]).default({ type: "state" }),
  /**
   * Each replica gets a public IPv4 of its node's farm (the node must be in a farm with a free one).
   * A public IPv4 belongs to the farm of the node it is on: a replica re-placed by a heal gets a
   * new address (the old one goes back to its farm when the dead node's contract is cancelled);
   * `zgrid bot status` and the `placed` event show it. Clients should use the gateway (stable).
   */
  public_ip: z.boolean().default(false),
  heal: z.boolean().default(true),
  /**
   * Consent to be moved (green farms): the farm's bot may ask for a node to be vacated (its power
   * target goes down on chain) so it can power it off; the 3bot then re-places the replica on it
   * elsewhere, make-before-break (the new one healthy and in the gateway before the old one is
   * drained and cancelled), as a heal does without the outage. Its replicas' contracts say so
   * (`movable` in their metadata; replicas made before the flag was set do not). Not with disks:
   * a disk stays on its node, and moving would drop its data.
   */
  movable: z.boolean().default(false),
  /** Rolling updates: how many replicas may be down at once. */
  max_unavailable: z.number().int().min(1).max(16).default(1),
  /** Publish all healthy replicas as `<name>.<gateway node domain>`. */
  gateway: z.strictObject({
    name: z.string().regex(/^[a-z0-9_-]{3,36}$/),
    port: z.number().int().min(1).max(65535).default(80),
    node: z.number().int().min(1).optional(),
  }).optional(),
}).refine((s) => !(s.movable && s.disks.length), { message: "a service with disks cannot be movable: a disk stays on its node, a move would drop its data (back it up and let heals restore it instead)", path: ["movable"] });

export const botSpecSchema = z.strictObject({
  services: z.array(serviceSpecSchema).max(64).refine((s) => new Set(s.map((x) => x.name)).size === s.length, "service names must be unique"),
  /** Replace the whole desired state (services not listed are removed); default: merge by name. */
  replace: z.boolean().default(false),
});

export type ServiceSpec = z.infer<typeof serviceSpecSchema>;
export type ServiceSpecInput = z.input<typeof serviceSpecSchema>;
export type BotSpec = z.infer<typeof botSpecSchema>;

/** Validates a spec (services + replace); BotInputError naming the field. */
export function parseBotSpec(raw: unknown): BotSpec {
  const r = botSpecSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "spec"}: ${i.message}`).join("; ");
    throw new BotInputError(`bad 3bot spec: ${msg}`, { hint: "see packages/bot/README.md for the service fields" });
  }
  return r.data;
}

/** Short hash of what makes a replica (a change here means a rolling update). */
export function replicaHash(s: ServiceSpec): string {
  const { flist, cpu, memory, rootfs, env, entrypoint } = s;
  // public_ip, disks and entrypoint only when set: the hashes of services made before them do not change;
  // a disk's backup interval is not part of the replica (changing it redeploys nothing)
  const disks = (s.disks ?? []).map(({ name, size, mountpoint }) => ({ name, size, mountpoint }));
  return createHash("sha256").update(JSON.stringify({ flist, cpu, memory, rootfs, env, ...(s.public_ip ? { public_ip: true } : {}), ...(disks.length ? { disks } : {}), ...(entrypoint ? { entrypoint } : {}) })).digest("hex").slice(0, 12);
}

/** The service's private network and the project tag on its contracts. */
export function serviceNetwork(s: { name: string }): string {
  return `b${s.name}`.slice(0, 15);
}
export function serviceProject(s: { name: string }): string {
  return `3bot.${s.name}`;
}
