/**
 * The part of the Compose specification (compose-spec.io) zgrid reads, as zod schemas. Objects are
 * loose: keys zgrid does not honour are collected by compose-file.ts and listed to the user, never
 * dropped silently. Values are as compose allows them (short and long forms).
 *
 * @example
 * ```ts
 * composeFileSchema.parse({ services: { web: { image: "nginx:1.25", ports: ["80:80"] } } });
 * ```
 */
import { z } from "zod";

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const command = z.union([z.string(), z.array(z.string())]);

export const SERVICE_KEYS = new Set([
  "image", "command", "entrypoint", "environment", "env_file", "working_dir", "user", "ports", "volumes", "networks",
  "restart", "healthcheck", "depends_on", "deploy", "stop_signal", "hostname", "x-zgrid",
]);
export const TOP_KEYS = new Set(["name", "services", "networks", "volumes", "version"]);

export const serviceSchema = z.looseObject({
  image: z.string().min(1).max(512).optional(),
  command: command.optional(),
  entrypoint: command.optional(),
  environment: z.union([z.record(z.string(), scalar.nullable()), z.array(z.string())]).optional(),
  env_file: z.union([z.string(), z.array(z.union([z.string(), z.looseObject({ path: z.string(), required: z.boolean().optional() })]))]).optional(),
  working_dir: z.string().max(4096).optional(),
  user: z.union([z.string().max(256), z.number().int()]).optional(),
  ports: z.array(z.union([z.string(), z.number().int(), z.looseObject({
    target: z.number().int(), published: z.union([z.string(), z.number().int()]).optional(), protocol: z.string().optional(), host_ip: z.string().optional(),
  })])).max(64).optional(),
  volumes: z.array(z.union([z.string(), z.looseObject({ type: z.string().optional(), source: z.string().optional(), target: z.string(), read_only: z.boolean().optional() })])).max(32).optional(),
  networks: z.union([z.array(z.string()), z.record(z.string(), z.looseObject({}).nullable())]).optional(),
  restart: z.string().optional(),
  healthcheck: z.looseObject({
    test: command.optional(), interval: z.string().optional(), timeout: z.string().optional(), retries: z.number().int().min(0).optional(),
    start_period: z.string().optional(), disable: z.boolean().optional(),
  }).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.looseObject({ condition: z.string().optional() }).nullable())]).optional(),
  deploy: z.looseObject({
    replicas: z.number().int().min(0).max(32).optional(),
    resources: z.looseObject({
      limits: z.looseObject({ cpus: z.union([z.string(), z.number()]).optional(), memory: z.string().optional() }).optional(),
      reservations: z.looseObject({ cpus: z.union([z.string(), z.number()]).optional(), memory: z.string().optional() }).optional(),
    }).optional(),
    restart_policy: z.looseObject({ condition: z.enum(["none", "on-failure", "any"]).optional(), max_attempts: z.number().int().min(0).optional() }).optional(),
  }).optional(),
  stop_signal: z.string().max(16).optional(),
  hostname: z.string().optional(),
  /** zgrid's extension: where and how the VM runs. */
  "x-zgrid": z.strictObject({
    node: z.number().int().min(1).optional(),
    rootfs: z.union([z.string(), z.number().int().min(0)]).optional(),
    public_ip: z.boolean().optional(),
    /** Name of the gateway the service's ports get (default `<project>-<service>`). */
    gateway: z.string().optional(),
    flist: z.string().optional(),
  }).optional(),
});
export type ComposeService = z.infer<typeof serviceSchema>;

export const composeFileSchema = z.looseObject({
  name: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  services: z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "a service name: letters, digits, _ . -"), serviceSchema.nullable()),
  networks: z.record(z.string(), z.looseObject({ ipam: z.looseObject({ config: z.array(z.looseObject({ subnet: z.string().optional() })).optional() }).optional() }).nullable()).optional(),
  volumes: z.record(z.string(), z.looseObject({
    driver_opts: z.record(z.string(), scalar).optional(),
    "x-zgrid": z.strictObject({ size: z.union([z.string(), z.number().int().min(1)]) }).optional(),
  }).nullable()).optional(),
});
export type ComposeFile = z.infer<typeof composeFileSchema>;
