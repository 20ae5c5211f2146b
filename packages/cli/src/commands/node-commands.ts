/** `zgrid nodes ls` (what nodes can still give) and `zgrid node config` (farmers: a zosd config). */
import type { Command } from "commander";
import type { NodeFilter } from "@zgrid/client";
import { sdk, withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

/** `--wait` in seconds: 0.1 to 600, anything else refused with what was wrong. */
function waitSeconds(v: string, InputError: new (m: string, o?: { hint?: string }) => Error): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0.1 || n > 600) throw new InputError(`--wait ${v.slice(0, 32)} is not a number of seconds between 0.1 and 600`, { hint: "e.g. --wait 30" });
  return n;
}

export function registerNodeCommands(program: Command, ctx: Ctx): void {
  program.command("nodes").description("nodes").command("ls").description("nodes that are up, most free memory first")
    .option("--cru <n>", "free vCPUs at least").option("--mru <size>", "free memory at least (MiB or 2G)").option("--sru <size>", "free SSD at least")
    .option("--farm <id>", "farm").option("--country <code>", "country").option("--has-domain", "with a domain").option("--public-ips <n>", "free public IPs in the farm")
    .option("--all", "include nodes that are down or rented")
    .option("--wait <seconds>", "how long each node gets to answer with its live figures (a slow, e.g. emulated, node may need more)", "4")
    .option("--explorer <url>", "ask this explorer's API (falls back to the chain and live checks when it does not answer)")
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { opts, io } = ctx();
      const { formatBytes, parseSize, InputError } = await sdk();
      const filter: NodeFilter = {
        ...(o.cru ? { cru: Number(o.cru) } : {}), ...(o.mru ? { mru: parseSize(String(o.mru)) } : {}), ...(o.sru ? { sru: parseSize(String(o.sru)) } : {}),
        ...(o.farm ? { farmId: Number(o.farm) } : {}), ...(o.country ? { country: String(o.country) } : {}), ...(o.hasDomain ? { hasDomain: true } : {}),
        ...(o.publicIps ? { publicIps: Number(o.publicIps) } : {}), ...(o.all ? { includeDown: true, includeRented: true } : {}),
        answerWithinMs: waitSeconds(String(o.wait), InputError) * 1000,
      };
      const nodes = o.explorer
        ? await (await import("./explorer-nodes.ts")).nodesFromExplorer(String(o.explorer), filter).catch(async (e: unknown) => {
          if (e instanceof InputError) throw e;
          io.progress(`the explorer at ${String(o.explorer)} did not answer (${e instanceof Error ? e.message : String(e)}); asking the chain and the nodes`);
          return withGrid(opts, (grid) => grid.nodes.list(filter));
        })
        : await withGrid(opts, (grid) => grid.nodes.list(filter));
      {
        io.result(nodes, () => table(nodes.map((n) => ({ id: n.nodeId, farm: n.farmId, up: n.up, country: n.country, "free cpu": n.free.cru, "free mem": formatBytes(n.free.mru), "free ssd": formatBytes(n.free.sru), "public ips": n.freePublicIps, deployments: n.deployments })), ["id", "farm", "up", "country", "free cpu", "free mem", "free ssd", "public ips", "deployments"]));
      }
    });

  const node = program.command("node").description("node registration (farmers)");
  node.command("fund").description("local grid: send a node account the native currency it pays its chain transactions with (a network-booted node waits for it)")
    .argument("<account>", "the node's account (its console prints it: zgrid-node: account 0x…)").option("--amount <eth>", "native currency", "100")
    .action(async (account: string, o: { amount: string }) => {
      const { opts, io } = ctx();
      const [{ readLocalGrid, InputError }, { createGridClient }] = await Promise.all([sdk(), import("@zgrid/chain/client")]);
      if (!/^0x[0-9a-fA-F]{40}$/.test(account)) throw new InputError(`'${account.slice(0, 64)}' is not an account address`, { hint: "pass the 0x… address the node prints" });
      const amount = Number(o.amount);
      if (!Number.isFinite(amount) || amount <= 0 || amount > 1e6) throw new InputError(`--amount ${o.amount} is not between 0 and 1000000`);
      const info = readLocalGrid(opts.dataDir);
      const admin = createGridClient({ rpcUrl: info.rpcUrl, addresses: info.addresses, account: info.adminKey });
      const hash = await admin.walletClient!.sendTransaction({ to: account as `0x${string}`, value: BigInt(Math.round(amount * 1e6)) * 10n ** 12n, chain: null });
      await admin.publicClient.waitForTransactionReceipt({ hash });
      const balance = await admin.publicClient.getBalance({ address: account as `0x${string}` });
      io.result({ account, balance: balance.toString() }, () => `node account ${account} funded: ${Number(balance / 10n ** 12n) / 1e6} (native)`);
    });
  node.command("config").description("print a zosd config for a node of your farm on this grid (zosd registers the node itself when it starts)")
    .requiredOption("--farm <id>", "farm id").option("--data-dir <dir>", "the node's data dir", "/var/lib/zos")
    .action(async (o: { farm: string; dataDir: string }) => {
      const { opts, io } = ctx();
      const { LocalGridError, readLocalGrid } = await sdk();
      let chain: { rpcUrl: string; addresses: unknown };
      try {
        chain = readLocalGrid(opts.dataDir);
      } catch {
        throw new LocalGridError("no grid to take the chain address from", { hint: "start the local grid (`zgrid up`)" });
      }
      const config = { dataDir: o.dataDir, farmId: Number(o.farm), chain: { rpcUrl: chain.rpcUrl, addresses: chain.addresses }, bus: { listen: ["/ip4/0.0.0.0/tcp/0"] } };
      io.result(config, () => JSON.stringify(config, null, 2) + "\n# fund the account `zosd --config zos.json --account` prints, then: zosd --config zos.json");
    });
}
