/**
 * `zgrid boot serve`: a farm's boot server. HTTP serves the boot image (Debian kernel + zgrid
 * initramfs), the iPXE script with the farm's kernel line and, when built, the ISO; optionally
 * Debian's dnsmasq answers DHCP (and TFTP for plain PXE ROMs) on one interface. Only the fixed
 * paths below exist; GET and HEAD only. Counts requests and bytes served (the boot bench reads them).
 *
 * | path | what |
 * |---|---|
 * | `/boot.ipxe` | iPXE script (the farm's image URL) |
 * | `/vmlinuz`, `/initrd.img` | the boot image |
 * | `/zgrid.iso` | the ISO (`buildIso`), when present in the image dir |
 * | `/kernel-line` | the kernel line, as text |
 *
 * @example
 * ```ts
 * const s = await startBootServer({ imageDir: ".tools/os", kernelLine: formatBootParams(p, name), host: "10.4.0.1", port: 8070 });
 * s.url; // "http://10.4.0.1:8070" — boot machines with `${s.url}/boot.ipxe`
 * await s.close();
 * ```
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import { BootServerError, startDnsmasq, type Dnsmasq } from "./dnsmasq.ts";
import { ipxeScript } from "./ipxe-script.ts";

const log = createLogger("os.boot-server");

export interface BootServer {
  url: string;
  scriptUrl: string;
  server: Server;
  dnsmasq?: Dnsmasq;
  stats(): { requests: Record<string, number>; bytes: number };
  close(): Promise<void>;
}

export interface BootServerOptions {
  imageDir: string;
  kernelLine: string;
  /** Extra kernel words for this site (e.g. tsc_early_khz= on TCG VMs). */
  extraWords?: string;
  host: string;
  port?: number;
  /** DHCP/TFTP with dnsmasq on this interface (needs root and no other DHCP server there). */
  dhcp?: { iface: string; range: [string, string]; netmask?: string; router?: string; stateDir: string };
}

export async function startBootServer(o: BootServerOptions): Promise<BootServer> {
  for (const f of ["vmlinuz", "initrd.img"]) {
    if (!existsSync(join(o.imageDir, f))) throw new BootServerError(`${join(o.imageDir, f)} is missing`, { hint: "build the image: bash packages/os/scripts/build-image.sh" });
  }
  const requests: Record<string, number> = {};
  let bytes = 0;
  let script = "";
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    requests[path] = (requests[path] ?? 0) + 1;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const text = path === "/boot.ipxe" ? script : path === "/kernel-line" ? `${o.kernelLine}\n` : undefined;
    if (text !== undefined) {
      res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) }).end(req.method === "HEAD" ? undefined : text);
      bytes += Buffer.byteLength(text);
      return;
    }
    const file = { "/vmlinuz": "vmlinuz", "/initrd.img": "initrd.img", "/zgrid.iso": "zgrid.iso" }[path];
    const full = file ? join(o.imageDir, file) : undefined;
    if (!full || !existsSync(full)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: this boot server serves /boot.ipxe, /vmlinuz, /initrd.img, /zgrid.iso, /kernel-line\n");
      return;
    }
    const size = statSync(full).size;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
    if (req.method === "HEAD") return void res.end();
    bytes += size;
    createReadStream(full).pipe(res);
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new BootServerError(`boot server cannot listen on ${o.host}:${o.port ?? 0}: ${e.message}`, { hint: "pick another --port or --host" })));
    server.listen(o.port ?? 0, o.host, resolve);
  });
  const addr = server.address();
  const url = `http://${o.host}:${typeof addr === "object" && addr ? addr.port : o.port}`;
  script = ipxeScript({ baseUrl: url, kernelLine: o.kernelLine, ...(o.extraWords ? { extraWords: o.extraWords } : {}) });
  let dnsmasq: Dnsmasq | undefined;
  if (o.dhcp) {
    try {
      dnsmasq = await startDnsmasq({ ...o.dhcp, scriptUrl: `${url}/boot.ipxe` });
    } catch (e) {
      await new Promise<void>((r) => server.close(() => r()));
      throw e;
    }
  }
  log.info({ url, dhcp: o.dhcp?.iface }, "boot server ready");
  return {
    url, scriptUrl: `${url}/boot.ipxe`, server, ...(dnsmasq ? { dnsmasq } : {}),
    stats: () => ({ requests: { ...requests }, bytes }),
    close: async () => {
      await dnsmasq?.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
