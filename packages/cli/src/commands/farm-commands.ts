/** `zgrid farm create|ip-add`: farms (farmers). */
import type { Command } from "commander";
import { withGrid, type Ctx } from "../context.ts";
import { registerFarmBotCommands } from "./farm-bot-commands.ts";

export function registerFarmCommands(program: Command, ctx: Ctx): void {
  const farm = program.command("farm").description("farms (farmers)");
  registerFarmBotCommands(farm, ctx);
  farm.command("create <name>").description("create a farm owned by your twin").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const id = await grid.chain.createFarm({ name });
      io.result({ farmId: id, name }, () => `farm ${id} '${name}' created; next: zgrid node config --farm ${id} > zos.json, then run zosd with it`);
    });
  });
  farm.command("ip-add <farmId> <cidr> <gateway>").description("add a public IP to your farm").action(async (farmId: string, ip: string, gateway: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      await grid.chain.addFarmIp(Number(farmId), { ip, gateway });
      io.result({ farmId: Number(farmId), ip, gateway }, () => `added ${ip} to farm ${farmId}`);
    });
  });
}
