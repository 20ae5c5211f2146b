/** `zgrid network ls|access|rm`: private networks (access and `rm --node`: network-access-commands.ts). */
import type { Command } from "commander";
import { withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";
import { registerNetworkAccessCommands, removeNetworkNode } from "./network-access-commands.ts";

export function registerNetworkCommands(program: Command, ctx: Ctx): void {
  const network = program.command("network").description("private networks");
  network.command("ls").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const nets = await grid.networks.list();
      io.result(nets, () => table(nets.map((n) => ({ name: n.name, ipRange: n.ipRange, parts: n.parts.map((p) => `node ${p.nodeId}: ${p.subnet} (contract ${p.contractId})`).join("; ") })), ["name", "ipRange", "parts"]));
    });
  });
  registerNetworkAccessCommands(network, ctx);
  network.command("rm <name>").description("remove a network, or with --node its part on one node (refused while VMs use it)").option("--node <id>", "only this node's part")
    .action(async (name: string, o: { node?: string }) => {
      if (o.node !== undefined) return removeNetworkNode(ctx, name, o.node);
      const { opts, io } = ctx();
      await withGrid(opts, async (grid) => {
        const users = (await grid.vms.list()).filter((v) => v.network === name).map((v) => v.name);
        const ids = await grid.networks.delete(name, users);
        io.result({ name, cancelled: ids }, () => (ids.length ? `removed network '${name}' (contracts ${ids.join(", ")})` : `no network named '${name}'`));
      });
    });
}
