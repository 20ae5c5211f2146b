/** `zgrid gw create|ls|rm`: publish a VM's port as <name>.<gateway node domain>. */
import type { Command } from "commander";
import { withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerGatewayCommands(program: Command, ctx: Ctx): void {
  const gw = program.command("gw").description("gateways: publish a VM's port as <name>.<gateway node domain>");
  gw.command("create <name>").description("publish a VM (its node must have a domain)").requiredOption("--vm <name>", "the VM").option("--port <n>", "the VM's HTTP port", "80")
    .action(async (name: string, o: { vm: string; port: string }) => {
      const { opts, io } = ctx();
      await withGrid(opts, async (grid) => {
        const g = await grid.gateways.create({ name, vm: o.vm, port: Number(o.port), onProgress: io.progress });
        io.result(g, () => `gateway ${g.fqdn} -> ${g.backend} (node ${g.nodeId}, contract ${g.contractId}, name contract ${g.nameContractId})`);
      });
    });
  gw.command("ls").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const list = await grid.gateways.list();
      io.result(list, () => table(list.map((g) => ({ ...g, node: g.nodeId })), ["name", "fqdn", "vm", "node", "contractId"]));
    });
  });
  gw.command("rm <name>").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const g = await grid.gateways.delete(name);
      io.result(g, () => `removed gateway ${g.fqdn}`);
    });
  });
}
