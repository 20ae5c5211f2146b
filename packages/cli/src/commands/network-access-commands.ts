/**
 * `zgrid network access NET` (your machine joins the private network over WireGuard) and
 * `zgrid network rm NET --node N` (take one node out of a network; the others drop its peer).
 * Registered on the `network` command by network-commands.ts.
 *
 * @example
 * ```sh
 * zgrid network access net --out net.conf && wg-quick up ./net.conf
 * zgrid network access net --remove
 * ```
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";

async function nodeIdOf(v: string | undefined): Promise<number | undefined> {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v)) {
    const { InputError } = await sdk();
    throw new InputError(`--node ${v} is not a node id`, { hint: "see the network's nodes with `zgrid network ls`" });
  }
  return Number(v);
}

export function registerNetworkAccessCommands(network: Command, ctx: Ctx): void {
  network.command("access <name>").description("add this machine to a private network as a WireGuard peer; prints a wg-quick file")
    .option("--out <file>", "also write the wg-quick file there (mode 600)").option("--node <id>", "the network's node to connect to")
    .option("--remove", "take this machine's access out of the network")
    .action(async (name: string, o: { out?: string; node?: string; remove?: boolean }) => {
      const { opts, io } = ctx();
      const nodeId = await nodeIdOf(o.node);
      await withGrid(opts, async (grid) => {
        const a = await grid.networks.access(name, { ...(nodeId !== undefined ? { nodeId } : {}), ...(o.remove ? { remove: true } : {}), onProgress: io.progress });
        if (o.out && a.config) writeFileSync(o.out, a.config, { mode: 0o600 });
        io.result(a, () => (a.removed ? `removed this machine's access to network '${name}'` : `${a.config}\n# network '${name}' via node ${a.nodeId} (${a.endpoint}); you are ${a.address}${o.out ? `; written to ${o.out}: wg-quick up ${o.out}` : ""}`));
      });
    });
}

/** `network rm NAME --node N`: the part on one node only. */
export async function removeNetworkNode(ctx: Ctx, name: string, node: string): Promise<void> {
  const { opts, io } = ctx();
  const nodeId = (await nodeIdOf(node))!;
  await withGrid(opts, async (grid) => {
    const users = (await grid.vms.list()).filter((v) => v.network === name && v.nodeId === nodeId).map((v) => v.name);
    const ids = await grid.networks.removeNode(name, nodeId, { usedBy: users, onProgress: io.progress });
    io.result({ name, nodeId, cancelled: ids }, () => `removed node ${nodeId} from network '${name}' (contract ${ids.join(", ")}); the other nodes no longer peer with it`);
  });
}
