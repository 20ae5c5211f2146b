/**
 * `zgrid boot serve|iso|line`: a farm's boot server for stateless Zero-OS nodes (@zgrid/os).
 * Without --rpc/--hub/--contracts, the running local grid's are used.
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../context.ts";

interface BootOpts {
  farm: string; rpc?: string; hub?: string; keys?: string; release?: string; net: string; contracts?: string;
  host: string; port: string; dhcpInterface?: string; dhcpRange?: string; router?: string; iso?: boolean; extra?: string;
}

async function kernelLine(o: BootOpts, dataDir: string): Promise<string> {
  const os = await import("@zgrid/os");
  const { readLocalGrid } = await import("@zgrid/client");
  let local: { rpcUrl: string; hubUrl: string; addresses: Record<string, string> } | undefined;
  if (!o.rpc || !o.hub) {
    try {
      local = readLocalGrid(dataDir);
    } catch {
      local = undefined;
    }
  }
  const rpc = o.rpc ?? local?.rpcUrl;
  const hub = o.hub ?? local?.hubUrl;
  const a = local?.addresses;
  const contracts = o.contracts ?? (a ? [a.token, a.registry, a.contracts, a.governance].join(",") : undefined);
  const line = [`zgrid.farm=${o.farm}`, `zgrid.rpc=${rpc ?? ""}`, `zgrid.hub=${hub ?? ""}`, `zgrid.keys=${o.keys ?? ""}`, `zgrid.release=${o.release ?? ""}`,
    `zgrid.net=${o.net}`, ...(contracts ? [`zgrid.contracts=${contracts}`] : [])].join(" ");
  // the same parser the node runs: a bad option is reported here, not on a farmer's console
  const params = os.parseBootParams(line);
  return os.formatBootParams(params, o.release!);
}

function bootOptions(c: Command): Command {
  return c.requiredOption("--farm <id>", "farm the nodes register in (`zgrid farm create` prints it)")
    .option("--rpc <url>", "chain JSON-RPC the nodes use (default: the local grid's)")
    .option("--hub <url>", "flist hub with the release (default: the local grid's)")
    .option("--keys <addresses>", "release keys: comma-separated twin addresses allowed to sign releases")
    .option("--release <owner/name.fl>", "the release flist on the hub")
    .option("--net <mode>", "dhcp or static:<ip>/<prefix>,<gateway>[,<dns>]", "dhcp")
    .option("--contracts <addresses>", "token,registry,contracts,governance (default: the local grid's)")
    .option("--extra <words>", "more kernel words for this site (e.g. tsc_early_khz=… for TCG VMs)");
}

export function registerBootCommands(program: Command, ctx: Ctx): void {
  const boot = program.command("boot").description("boot server and boot media for stateless Zero-OS nodes");
  bootOptions(boot.command("line").description("print the kernel line nodes of a farm boot with")).action(async (o: BootOpts) => {
    const { opts, io } = ctx();
    const line = await kernelLine(o, opts.dataDir);
    io.result({ kernelLine: line }, () => line);
  });
  bootOptions(boot.command("iso").description("build the ISO/USB image with the farm's kernel line (Debian isolinux + xorriso)"))
    .option("--output <file>", "where to write it (default: <image dir>/zgrid.iso)").action(async (o: BootOpts & { output?: string }) => {
      const { opts, io } = ctx();
      const os = await import("@zgrid/os");
      const line = await kernelLine(o, opts.dataDir);
      const dir = os.ensureBootImage();
      const r = await os.buildIso({ imageDir: dir, kernelLine: line, output: o.output ?? join(dir, "zgrid.iso"), ...(o.extra ? { extraWords: o.extra } : {}) });
      io.result(r, () => `wrote ${r.output} (${(r.bytes / 1024 ** 2).toFixed(1)} MiB): dd it to a USB stick or attach it as a CD-ROM`);
    });
  bootOptions(boot.command("serve").description("serve the boot image over HTTP (iPXE script) and, with --dhcp-interface, DHCP/TFTP with dnsmasq"))
    .option("--host <ip>", "address to listen on and to put in the iPXE script", "0.0.0.0")
    .option("--port <n>", "HTTP port", "8070")
    .option("--dhcp-interface <if>", "answer DHCP (and TFTP for plain PXE) on this interface with dnsmasq")
    .option("--dhcp-range <first,last>", "addresses to lease (with --dhcp-interface)")
    .option("--router <ip>", "default gateway to hand out")
    .option("--iso", "also build and serve /zgrid.iso")
    .action(async (o: BootOpts) => {
      const { opts, io } = ctx();
      const os = await import("@zgrid/os");
      const line = await kernelLine(o, opts.dataDir);
      const dir = os.ensureBootImage();
      if (o.iso || existsSync(join(dir, "zgrid.iso"))) await os.buildIso({ imageDir: dir, kernelLine: line, output: join(dir, "zgrid.iso"), ...(o.extra ? { extraWords: o.extra } : {}) });
      const range = o.dhcpRange?.split(",");
      if (o.dhcpInterface && (range?.length !== 2)) throw new os.BootServerError("--dhcp-interface needs --dhcp-range <first>,<last>", { hint: "e.g. --dhcp-range 10.4.0.100,10.4.0.200" });
      const s = await os.startBootServer({
        imageDir: dir, kernelLine: line, host: o.host, port: Number(o.port), ...(o.extra ? { extraWords: o.extra } : {}),
        ...(o.dhcpInterface ? { dhcp: { iface: o.dhcpInterface, range: [range![0]!, range![1]!] as [string, string], ...(o.router ? { router: o.router } : {}), stateDir: join(opts.dataDir, "boot-server") } } : {}),
      });
      io.result({ url: s.url, script: s.scriptUrl, kernelLine: line }, () => `boot server on ${s.url}: boot machines with ${s.scriptUrl}${o.dhcpInterface ? ` (DHCP on ${o.dhcpInterface})` : " (chain to it from your DHCP server or iPXE)"}; Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
      });
      await s.close();
    });
}
