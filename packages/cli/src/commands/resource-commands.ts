/**
 * `zgrid network|contracts|nodes|twin|farm|gw`: the grid's other nouns.
 */
import type { Command } from "commander";
import { createGridClient } from "@zgrid/chain/client/create-grid-client";
import { InputError, LocalGridError, formatBytes, parseSize, readLocalGrid, type NodeFilter } from "@zgrid/client";
import { openGrid, type GlobalOptions } from "../context.ts";
import { nodesFromExplorer } from "./explorer-nodes.ts";
import { table, type Output } from "../output.ts";
import { registerNetworkAccessCommands, removeNetworkNode } from "./network-access-commands.ts";

const collectValues = (v: string, acc: string[]) => [...acc, v];

type Ctx = () => { opts: GlobalOptions; io: Output };

export function registerResourceCommands(program: Command, ctx: Ctx): void {
  const network = program.command("network").description("private networks");
  network.command("ls").action(async () => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const nets = await grid.networks.list();
      io.result(nets, () => table(nets.map((n) => ({ name: n.name, ipRange: n.ipRange, parts: n.parts.map((p) => `node ${p.nodeId}: ${p.subnet} (contract ${p.contractId})`).join("; ") })), ["name", "ipRange", "parts"]));
    } finally {
      await grid.close();
    }
  });
  registerNetworkAccessCommands(network, ctx);
  network.command("rm <name>").description("remove a network, or with --node its part on one node (refused while VMs use it)").option("--node <id>", "only this node's part")
    .action(async (name: string, o: { node?: string }) => {
    if (o.node !== undefined) return removeNetworkNode(ctx, name, o.node);
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const users = (await grid.vms.list()).filter((v) => v.network === name).map((v) => v.name);
      const ids = await grid.networks.delete(name, users);
      io.result({ name, cancelled: ids }, () => (ids.length ? `removed network '${name}' (contracts ${ids.join(", ")})` : `no network named '${name}'`));
    } finally {
      await grid.close();
    }
  });

  const contracts = program.command("contracts").description("your IT contracts");
  contracts.command("ls").description("live contracts with what they are for and their cost").action(async () => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const list = await grid.contracts.list();
      io.result(list, () => table(list.map((c) => ({ ...c, for: c.metadata ? `${c.metadata.kind} ${c.metadata.name}` : "", node: c.nodeId, "usd/h": c.costPerHourUsd.toFixed(4) })), ["id", "kind", "state", "node", "for", "usd/h"]));
    } finally {
      await grid.close();
    }
  });
  contracts.command("cancel <ids...>").description("cancel contracts by id").action(async (ids: string[]) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      for (const id of ids) {
        if (!/^\d+$/.test(id)) throw new InputError(`contract id ${id} is not a number`);
        await grid.contracts.cancel(Number(id));
        io.progress(`cancelled contract ${id}`);
      }
      io.result({ cancelled: ids.map(Number) }, () => `cancelled ${ids.join(", ")}`);
    } finally {
      await grid.close();
    }
  });

  program.command("nodes").description("nodes").command("ls").description("nodes that are up, most free memory first")
    .option("--cru <n>", "free vCPUs at least").option("--mru <size>", "free memory at least (MiB or 2G)").option("--sru <size>", "free SSD at least")
    .option("--farm <id>", "farm").option("--country <code>", "country").option("--has-domain", "with a domain").option("--public-ips <n>", "free public IPs in the farm")
    .option("--all", "include nodes that are down or rented")
    .option("--explorer <url>", "ask this explorer's API (falls back to the chain and live checks when it does not answer)")
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { opts, io } = ctx();
      const grid = o.explorer ? undefined : await openGrid(opts);
      try {
        const filter: NodeFilter = {
          ...(o.cru ? { cru: Number(o.cru) } : {}), ...(o.mru ? { mru: parseSize(String(o.mru)) } : {}), ...(o.sru ? { sru: parseSize(String(o.sru)) } : {}),
          ...(o.farm ? { farmId: Number(o.farm) } : {}), ...(o.country ? { country: String(o.country) } : {}), ...(o.hasDomain ? { hasDomain: true } : {}),
          ...(o.publicIps ? { publicIps: Number(o.publicIps) } : {}), ...(o.all ? { includeDown: true, includeRented: true } : {}),
        };
        const nodes = o.explorer
          ? await nodesFromExplorer(String(o.explorer), filter).catch(async (e: unknown) => {
            if (e instanceof InputError) throw e;
            io.progress(`the explorer at ${String(o.explorer)} did not answer (${e instanceof Error ? e.message : String(e)}); asking the chain and the nodes`);
            const fallback = await openGrid(opts);
            try { return await fallback.nodes.list(filter); } finally { await fallback.close(); }
          })
          : await grid!.nodes.list(filter);
        io.result(nodes, () => table(nodes.map((n) => ({ id: n.nodeId, farm: n.farmId, up: n.up, country: n.country, "free cpu": n.free.cru, "free mem": formatBytes(n.free.mru), "free ssd": formatBytes(n.free.sru), "public ips": n.freePublicIps, deployments: n.deployments })), ["id", "farm", "up", "country", "free cpu", "free mem", "free ssd", "public ips", "deployments"]));
      } finally {
        await grid?.close();
      }
    });

  const twin = program.command("twin").description("your twin");
  twin.command("show").action(async () => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const t = await grid.twin();
      io.result(t, () => `twin ${t.twinId}\n  account ${t.address}\n  balance ${(Number(t.balance) / 1e7).toFixed(2)} ZGT`);
    } finally {
      await grid.close();
    }
  });
  twin.command("fund").description("local grid: mint tokens to your twin").option("--amount <zgt>", "tokens", "1000000").action(async (o: { amount: string }) => {
    const { opts, io } = ctx();
    const info = readLocalGrid(opts.dataDir);
    const admin = createGridClient({ rpcUrl: info.rpcUrl, addresses: info.addresses, account: info.adminKey });
    await admin.mint(info.user.address as `0x${string}`, BigInt(Math.round(Number(o.amount) * 1e7)));
    const balance = await admin.balanceOf(info.user.address as `0x${string}`);
    io.result({ twinId: info.user.twinId, balance }, () => `twin ${info.user.twinId} funded: balance ${(Number(balance) / 1e7).toFixed(2)} ZGT`);
  });

  const farm = program.command("farm").description("farms (farmers)");
  farm.command("create <name>").description("create a farm owned by your twin").action(async (name: string) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const id = await grid.chain.createFarm({ name });
      io.result({ farmId: id, name }, () => `farm ${id} '${name}' created; next: zgrid node config --farm ${id} > zos.json, then run zosd with it`);
    } finally {
      await grid.close();
    }
  });
  farm.command("ip-add <farmId> <cidr> <gateway>").description("add a public IP to your farm").action(async (farmId: string, ip: string, gateway: string) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      await grid.chain.addFarmIp(Number(farmId), { ip, gateway });
      io.result({ farmId: Number(farmId), ip, gateway }, () => `added ${ip} to farm ${farmId}`);
    } finally {
      await grid.close();
    }
  });
  program.command("node").description("node registration (farmers)").command("config").description("print a zosd config for a node of your farm on this grid (zosd registers the node itself when it starts)")
    .requiredOption("--farm <id>", "farm id").option("--data-dir <dir>", "the node's data dir", "/var/lib/zos")
    .action((o: { farm: string; dataDir: string }) => {
      const { opts, io } = ctx();
      let chain: { rpcUrl: string; addresses: unknown };
      try {
        chain = readLocalGrid(opts.dataDir);
      } catch {
        throw new LocalGridError("no grid to take the chain address from", { hint: "start the local grid (`zgrid up`)" });
      }
      const config = { dataDir: o.dataDir, farmId: Number(o.farm), chain: { rpcUrl: chain.rpcUrl, addresses: chain.addresses }, bus: { listen: ["/ip4/0.0.0.0/tcp/0"] } };
      io.result(config, () => JSON.stringify(config, null, 2) + "\n# fund the account `zosd --config zos.json --account` prints, then: zosd --config zos.json");
    });

  const gw = program.command("gw").description("gateways: publish a VM's port or public backends as <name>.<gateway node domain> or your own domain");
  gw.command("create <name>").description("publish a VM (its node must have a domain) or public backends on a gateway node")
    .option("--vm <name>", "the VM to publish (over its private network)").option("--port <n>", "the VM's port", "80")
    .option("--backend <url>", "a public backend http://IP:PORT (IP:PORT with --tls-passthrough); repeatable", collectValues, [])
    .option("--fqdn <domain>", "serve your own domain (point its DNS at the gateway node) instead of <name>.<node domain>")
    .option("--tls-passthrough", "forward TLS by SNI to the backend, which holds the certificate")
    .option("--node <id>", "gateway node for public backends (default: the one with most free memory)")
    .action(async (name: string, o: { vm?: string; port: string; backend: string[]; fqdn?: string; tlsPassthrough?: boolean; node?: string }) => {
      const { opts, io } = ctx();
      if (!/^\d{1,5}$/.test(o.port)) throw new InputError(`--port ${o.port} is not a port number`);
      if (o.node !== undefined && !/^\d{1,6}$/.test(o.node)) throw new InputError(`--node ${o.node} is not a node id`);
      const grid = await openGrid(opts);
      try {
        const g = await grid.gateways.create({
          name, port: Number(o.port), ...(o.vm ? { vm: o.vm } : {}), ...(o.backend.length ? { backends: o.backend } : {}), ...(o.fqdn ? { fqdn: o.fqdn } : {}),
          ...(o.tlsPassthrough ? { tlsPassthrough: true } : {}), ...(o.node !== undefined ? { node: Number(o.node) } : {}), onProgress: io.progress,
        });
        io.result(g, () => `gateway ${g.fqdn} -> ${g.backend} (node ${g.nodeId}, contract ${g.contractId}${g.nameContractId ? `, name contract ${g.nameContractId}` : ""})`);
      } finally {
        await grid.close();
      }
    });
  gw.command("ls").action(async () => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const list = await grid.gateways.list();
      io.result(list, () => table(list.map((g) => ({ ...g, node: g.nodeId })), ["name", "kind", "fqdn", "vm", "node", "contractId", "project"]));
    } finally {
      await grid.close();
    }
  });
  gw.command("rm <name>").action(async (name: string) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const g = await grid.gateways.delete(name);
      io.result(g, () => `removed gateway ${g.fqdn}`);
    } finally {
      await grid.close();
    }
  });
}
