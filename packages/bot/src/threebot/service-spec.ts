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

export const serviceSpecSchema = z.strictObject({
  /** 2–16 of a-z 0-9: replica names are `<name>_<generation>` (a VM name). */
  name: z.string().regex(NAME, "2 to 16 of a-z 0-9, starting with a letter"),
  flist: z.string().min(1).max(1024),
  cpu: z.number().int().min(1).max(32).default(1),
  /** MiB. */
  memory: z.number().int().min(250).max(256 * 1024).default(256),
  rootfs: z.number().int().min(0).max(1024 * 1024).default(0),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.string().max(4096)).refine((e) => Object.keys(e).length <= 64, "at most 64 variables").default({}),
  replicas: z.number().int().min(1).max(16).default(1),
  /** spread: each replica on a different node (and farm when possible); pack: fill nodes in order. */
  placement: z.enum(["spread", "pack"]).default("spread"),
  /** Never two replicas on one node (also while healing: a node without a replica is picked). */
  anti_affinity: z.boolean().default(true),
  /** Nodes the service may use (default: any up node). */
  nodes: z.array(z.number().int().min(1)).max(256).optional(),
  health: z.strictObject({
    /**
     * state: the replica's node reports its zmachine running (the only check so far: tcp/http
     * checks need a node route that probes inside the tenant's network, not built yet).
     */
    type: z.literal("state").default("state"),
  }).default({ type: "state" }),
  heal: z.boolean().default(true),
  /** Rolling updates: how many replicas may be down at once. */
  max_unavailable: z.number().int().min(1).max(16).default(1),
  /** Publish all healthy replicas as `<name>.<gateway node domain>`. */
  gateway: z.strictObject({
    name: z.string().regex(/^[a-z0-9_-]{3,36}$/),
    port: z.number().int().min(1).max(65535).default(80),
    node: z.number().int().min(1).optional(),
  }).optional(),
});

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
  const { flist, cpu, memory, rootfs, env } = s;
  return createHash("sha256").update(JSON.stringify({ flist, cpu, memory, rootfs, env })).digest("hex").slice(0, 12);
}

/** The service's private network and the project tag on its contracts. */
export function serviceNetwork(s: { name: string }): string {
  return `b${s.name}`.slice(0, 15);
}
export function serviceProject(s: { name: string }): string {
  return `3bot.${s.name}`;
}
