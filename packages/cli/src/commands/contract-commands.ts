/** `zgrid contracts ls|cancel`: your IT contracts. */
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerContractCommands(program: Command, ctx: Ctx): void {
  const contracts = program.command("contracts").description("your IT contracts");
  contracts.command("ls").description("live contracts with what they are for and their cost").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const list = await grid.contracts.list();
      io.result(list, () => table(list.map((c) => ({ ...c, for: c.metadata ? `${c.metadata.kind} ${c.metadata.name}` : "", node: c.nodeId, "usd/h": c.costPerHourUsd.toFixed(4) })), ["id", "kind", "state", "node", "for", "usd/h"]));
    });
  });
  contracts.command("cancel <ids...>").description("cancel contracts by id").action(async (ids: string[]) => {
    const { opts, io } = ctx();
    const { InputError } = await sdk();
    for (const id of ids) if (!/^\d+$/.test(id)) throw new InputError(`contract id ${id} is not a number`);
    await withGrid(opts, async (grid) => {
      for (const id of ids) {
        await grid.contracts.cancel(Number(id));
        io.progress(`cancelled contract ${id}`);
      }
      io.result({ cancelled: ids.map(Number) }, () => `cancelled ${ids.join(", ")}`);
    });
  });
}
