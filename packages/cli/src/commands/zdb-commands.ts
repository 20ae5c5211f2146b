/**
 * `zgrid zdb create|ls|rm`: 0-db namespaces (key-value stores any Redis client speaks to).
 *
 * @example
 * ```sh
 * zgrid zdb create backup --size 1G --mode seq --password s3cret
 * zgrid zdb ls
 * redis-cli -h 10.20.2.1 -p 9900 SELECT <namespace> s3cret
 * zgrid zdb rm backup
 * ```
 */
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerZdbCommands(program: Command, ctx: Ctx): void {
  const zdb = program.command("zdb").description("zdb namespaces: 0-db key-value stores on a node's disk (RESP: any Redis client)");
  zdb.command("create <name>").description("deploy a namespace")
    .requiredOption("--size <size>", "size limit, e.g. 512M, 10G (counts as HDD capacity)")
    .option("--mode <mode>", "user (you name keys) or seq (the server assigns sequential keys)", "user")
    .option("--password <pw>", "password to SELECT it (needed from outside your networks)", "")
    .option("--public", "readable without the password (0-db public mode); writes still need it", false)
    .option("--node <id>", "the node (default: one with the capacity free)")
    .option("--network <name...>", "your networks on that node to expose it in (default: every one you have there)")
    .action(async (name: string, o: { size: string; mode: string; password: string; public: boolean; node?: string; network?: string[] }) => {
      const { opts, io } = ctx();
      const { InputError, parseSize } = await sdk();
      const size = parseSize(o.size, "M");
      if (!Number.isFinite(size) || size <= 0) throw new InputError(`--size '${o.size}' is not a size`, { hint: "write it like 512M or 10G" });
      if (o.mode !== "user" && o.mode !== "seq") throw new InputError(`--mode '${o.mode}': user or seq`);
      await withGrid(opts, async (grid) => {
        const z = await grid.zdbs.create({ name, size, mode: o.mode as "user" | "seq", password: o.password, public: o.public, ...(o.node ? { node: Number(o.node) } : {}),
          ...(o.network ? { networks: o.network } : {}), onProgress: io.progress });
        io.result(z, () => `zdb ${z.name}: namespace ${z.namespace} on node ${z.nodeId} (contract ${z.contractId}) at ${z.endpoints.map((e) => `${e.address}:${e.port}${e.network ? ` (${e.network})` : ""}`).join(", ")}`);
      });
    });
  zdb.command("ls").description("your namespaces").action(async () => {
    const { opts, io } = ctx();
    const { formatBytes } = await sdk();
    await withGrid(opts, async (grid) => {
      const list = await grid.zdbs.list();
      io.result(list, () => table(list.map((z) => ({ ...z, node: z.nodeId, size: formatBytes(z.size), endpoints: z.endpoints.map((e) => `${e.address}:${e.port}`).join(" ") })),
        ["name", "namespace", "mode", "size", "node", "state", "endpoints"]));
    });
  });
  zdb.command("rm <name>").description("delete a namespace and its data").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const z = await grid.zdbs.delete(name);
      io.result(z, () => `removed zdb ${z.name} (its data is deleted on node ${z.nodeId})`);
    });
  });
}
