/**
 * `zgrid gw create|ls|rm`: publish a VM's port or public backends as <name>.<gateway node domain>
 * or your own domain (FQDN), optionally as TLS passthrough.
 */
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

const collectValues = (v: string, acc: string[]) => [...acc, v];

export function registerGatewayCommands(program: Command, ctx: Ctx): void {
  const gw = program.command("gw").description("gateways: publish a VM's port or public backends as <name>.<gateway node domain> or your own domain");
  gw.command("create <name>").description("publish a VM (its node must have a domain) or public backends on a gateway node")
    .option("--vm <name>", "the VM to publish (over its private network)").option("--port <n>", "the VM's port", "80")
    .option("--backend <url>", "a public backend http://IP:PORT (IP:PORT with --tls-passthrough); repeatable", collectValues, [])
    .option("--fqdn <domain>", "serve your own domain (point its DNS at the gateway node) instead of <name>.<node domain>")
    .option("--tls-passthrough", "forward TLS by SNI to the backend, which holds the certificate")
    .option("--node <id>", "gateway node for public backends (default: the one with most free memory)")
    .action(async (name: string, o: { vm?: string; port: string; backend: string[]; fqdn?: string; tlsPassthrough?: boolean; node?: string }) => {
      const { opts, io } = ctx();
      const { InputError } = await sdk();
      if (!/^\d{1,5}$/.test(o.port)) throw new InputError(`--port ${o.port} is not a port number`);
      if (o.node !== undefined && !/^\d{1,6}$/.test(o.node)) throw new InputError(`--node ${o.node} is not a node id`);
      await withGrid(opts, async (grid) => {
        const g = await grid.gateways.create({
          name, port: Number(o.port), ...(o.vm ? { vm: o.vm } : {}), ...(o.backend.length ? { backends: o.backend } : {}), ...(o.fqdn ? { fqdn: o.fqdn } : {}),
          ...(o.tlsPassthrough ? { tlsPassthrough: true } : {}), ...(o.node !== undefined ? { node: Number(o.node) } : {}), onProgress: io.progress,
        });
        io.result(g, () => `gateway ${g.fqdn} -> ${g.backend} (node ${g.nodeId}, contract ${g.contractId}${g.nameContractId ? `, name contract ${g.nameContractId}` : ""})`);
      });
    });
  gw.command("ls").action(async () => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const list = await grid.gateways.list();
      io.result(list, () => table(list.map((g) => ({ ...g, node: g.nodeId })), ["name", "kind", "fqdn", "vm", "node", "contractId", "project"]));
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
