/** `zgrid network ls|rm`: private networks. */
import type { Command } from "commander";
import { withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerNetworkCommands(program: Command, ctx: Ctx): void {
  const network = program.command("network").description("private networks");
  network.command("ls").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const nets = await grid.networks.list();
      io.result(nets, () => table(nets.map((n) => ({ name: n.name, ipRange: n.ipRange, parts: n.parts.map((p) => `node ${p.nodeId}: ${p.subnet} (contract ${p.contractId})`).join("; ") })), ["name", "ipRange", "parts"]));
    });
  });
  network.command("rm <name>").description("remove a network (refused while VMs use it)").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const users = (await grid.vms.list()).filter((v) => v.network === name).map((v) => v.name);
      const ids = await grid.networks.delete(name, users);
      io.result({ name, cancelled: ids }, () => (ids.length ? `removed network '${name}' (contracts ${ids.join(", ")})` : `no network named '${name}'`));
    });
  });
}
