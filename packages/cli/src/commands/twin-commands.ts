/** `zgrid twin show|fund`: your twin and its balance. */
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";

export function registerTwinCommands(program: Command, ctx: Ctx): void {
  const twin = program.command("twin").description("your twin");
  twin.command("show").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const t = await grid.twin();
      io.result(t, () => `twin ${t.twinId}\n  account ${t.address}\n  balance ${(Number(t.balance) / 1e7).toFixed(2)} ZGT`);
    });
  });
  twin.command("fund").description("local grid: mint tokens to your twin").option("--amount <zgt>", "tokens", "1000000").action(async (o: { amount: string }) => {
    const { opts, io } = ctx();
    const [{ readLocalGrid }, { createGridClient }] = await Promise.all([sdk(), import("@zgrid/chain/client")]);
    const info = readLocalGrid(opts.dataDir);
    const admin = createGridClient({ rpcUrl: info.rpcUrl, addresses: info.addresses, account: info.adminKey });
    await admin.mint(info.user.address as `0x${string}`, BigInt(Math.round(Number(o.amount) * 1e7)));
    const balance = await admin.balanceOf(info.user.address as `0x${string}`);
    io.result({ twinId: info.user.twinId, balance }, () => `twin ${info.user.twinId} funded: balance ${(Number(balance) / 1e7).toFixed(2)} ZGT`);
  });
}
