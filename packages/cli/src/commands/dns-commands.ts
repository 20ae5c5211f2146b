/**
 * `zgrid dns ls|add|rm|prove`: the local grid's DNS (the server `zgrid up` runs on the underlay,
 * which the nodes ask for FQDN gateways' ownership proofs). `prove FQDN` publishes
 * `_zgrid.<FQDN>` TXT `zgrid-twin=<your twin>`; on another grid (`--grid`) it prints the record
 * to publish at your domain's DNS provider instead.
 */
import type { Command } from "commander";
import { sdk, withGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerDnsCommands(program: Command, ctx: Ctx): void {
  const dns = program.command("dns").description("local grid: the DNS records its DNS server answers (FQDN gateways' ownership proofs)");
  dns.command("ls").description("the local grid's DNS records").action(async () => {
    const { opts, io } = ctx();
    const { localDnsZone, readLocalGrid } = await sdk();
    const server = readLocalGrid(opts.dataDir).dns?.server;
    const records = localDnsZone(opts.dataDir).list();
    io.result({ server, records }, () => `${server ? `server ${server}\n` : ""}${table(records, ["name", "type", "value"])}`);
  });
  dns.command("add <name>").description("publish a record on the local grid's DNS")
    .option("--txt <value>", "a TXT record").option("--a <ipv4>", "an A record")
    .action(async (name: string, o: { txt?: string; a?: string }) => {
      const { opts, io } = ctx();
      const { localDnsZone, InputError } = await sdk();
      if ((o.txt === undefined) === (o.a === undefined)) throw new InputError("give exactly one of --txt VALUE or --a IPV4", { hint: "e.g. zgrid dns add _zgrid.shop.example.org --txt zgrid-twin=4" });
      const rec = localDnsZone(opts.dataDir).add(o.txt !== undefined ? { name, type: "TXT", value: o.txt } : { name, type: "A", value: o.a! });
      io.result(rec, () => `published ${rec.name} ${rec.type} "${rec.value}"`);
    });
  dns.command("rm <name>").description("remove a name's records from the local grid's DNS")
    .option("--txt <value>", "only this TXT value")
    .action(async (name: string, o: { txt?: string }) => {
      const { opts, io } = ctx();
      const { localDnsZone, NotFoundError } = await sdk();
      const removed = localDnsZone(opts.dataDir).remove(name, o.txt !== undefined ? { type: "TXT", value: o.txt } : {});
      if (removed === 0) throw new NotFoundError(`no DNS record ${name}${o.txt !== undefined ? ` with TXT "${o.txt}"` : ""}`, { hint: "list them with `zgrid dns ls`" });
      io.result({ name, removed }, () => `removed ${removed} record(s) of ${name}`);
    });
  dns.command("prove <fqdn>").description("publish the TXT record that proves your twin controls FQDN (needed before `gw create --fqdn`)")
    .action(async (fqdn: string) => {
      const { opts, io } = ctx();
      const { localDnsZone, fqdnProofRecord, readLocalGrid } = await sdk();
      if (opts.grid) {
        const twinId = await withGrid(opts, (grid) => Promise.resolve(grid.twinId));
        const rec = fqdnProofRecord(fqdn, twinId);
        io.result({ ...rec, published: false }, () => `publish this record at the DNS provider of ${fqdn}, then create the gateway:\n  ${rec.name}. TXT "${rec.value}"`);
        return;
      }
      const rec = localDnsZone(opts.dataDir).add(fqdnProofRecord(fqdn, readLocalGrid(opts.dataDir).user.twinId));
      io.result({ ...rec, published: true }, () => `published ${rec.name} TXT "${rec.value}" on the local grid's DNS\nnext: zgrid gw create NAME --fqdn ${fqdn} --backend http://IP:PORT`);
    });
}
