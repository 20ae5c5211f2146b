/**
 * The local grid's DNS server: a real authoritative DNS server (the `dns2` package, UDP and TCP)
 * on the underlay host address, which every node of the local grid uses as its
 * `gateway.fqdnResolvers`. It answers from the local DNS zone file (`@zgrid/client`'s
 * `localDnsZone`, written by `zgrid dns add|prove|rm` or the SDK), re-read when the file changes,
 * and with A records for `*.<gateway node domain>` (name gateways) when given. Everything else is
 * NXDOMAIN: it is authoritative for what the local grid publishes and recurses for nobody.
 *
 * @example
 * ```ts
 * const dns = await startLocalDns({ host: "10.201.0.1", zoneFile: "/var/lib/zgrid/dns/zone.json" });
 * dns.server; // "10.201.0.1:53" (or another port when 53 is taken)
 * await dns.stop();
 * ```
 */
import type { Socket } from "node:dgram";
import { statSync } from "node:fs";
import type { Server } from "node:net";
import dns2 from "dns2";
import { readDnsZoneFile, type DnsRecord } from "@zgrid/client";
import { createLogger } from "@zgrid/log";

const log = createLogger("cli.local-dns");

export interface LocalDns {
  /** `ip:port`, as the nodes' `gateway.fqdnResolvers` take it. */
  server: string;
  stop(): Promise<void>;
}

export interface LocalDnsOptions {
  host: string;
  zoneFile: string;
  /** Ports to try in order (0 = any free one). Default: 53, then any. */
  ports?: number[];
  /** `*.<suffix>` answers A `<address>` (gateway node domains). */
  wildcards?: Array<{ suffix: string; address: string }>;
}

/** Reads the zone when the file changed (inode, size or mtime); keeps the last good one on a bad file. */
function zoneReader(path: string): () => DnsRecord[] {
  let stamp = "";
  let records: DnsRecord[] = [];
  return () => {
    let now = "none";
    try {
      const s = statSync(path);
      now = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      /* no zone file yet: no records */
    }
    if (now === stamp) return records;
    try {
      records = now === "none" ? [] : readDnsZoneFile(path);
      stamp = now;
    } catch (e) {
      log.warn({ zone: path, err: String(e) }, "the local DNS zone file is not valid; serving the last good one");
    }
    return records;
  };
}

/** What the server answers for one question (exported for tests). */
export function answer(records: DnsRecord[], wildcards: LocalDnsOptions["wildcards"], name: string, type: "TXT" | "A" | "other"): { rcode: "NOERROR" | "NXDOMAIN"; values: string[] } {
  const n = name.toLowerCase().replace(/\.$/, "");
  const own = records.filter((r) => r.name === n);
  const wild = (wildcards ?? []).filter((w) => n.endsWith(`.${w.suffix.toLowerCase()}`));
  if (own.length === 0 && wild.length === 0) return { rcode: "NXDOMAIN", values: [] };
  const values = own.filter((r) => r.type === type).map((r) => r.value);
  if (type === "A" && values.length === 0) values.push(...wild.map((w) => w.address));
  return { rcode: "NOERROR", values };
}

async function listenOn(host: string, port: number, handle: dns2.DnsHandler): Promise<{ server: dns2.DnsServer; port: number }> {
  const server = dns2.createServer({ udp: true, tcp: true, handle });
  const failed = new Promise<never>((_, reject) => server.once("error", reject));
  // both protocols on the same port: UDP picks it, TCP follows
  const udp = await Promise.race([new Promise<number>((resolve, reject) => {
    const s = (server as unknown as { servers: { udp: Socket } }).servers.udp;
    s.once("error", reject);
    s.bind(port, host, () => resolve(s.address().port));
  }), failed]);
  await Promise.race([new Promise<void>((resolve, reject) => {
    const s = (server as unknown as { servers: { tcp: Server } }).servers.tcp;
    s.once("error", reject);
    s.listen(udp, host, () => resolve());
  }), failed]).catch(async (e: unknown) => {
    await server.close().catch(() => undefined);
    throw e;
  });
  server.on("error", (e) => log.warn({ err: String(e) }, "local DNS server error"));
  server.on("requestError", () => undefined);
  return { server, port: udp };
}

export async function startLocalDns(o: LocalDnsOptions): Promise<LocalDns> {
  const zone = zoneReader(o.zoneFile);
  const { TYPE } = dns2.Packet;
  const NXDOMAIN = 3; // RFC 1035 4.1.1 (dns2's Packet.RCODE, missing from its types)
  const handle: dns2.DnsHandler = (request, send) => {
    const response = dns2.Packet.createResponseFromRequest(request);
    const q = request.questions[0];
    (response.header as { aa?: number }).aa = 1;
    if (q) {
      const type = q.type === TYPE.TXT ? "TXT" : q.type === TYPE.A ? "A" : "other";
      const a = answer(zone(), o.wildcards, q.name, type);
      if (a.rcode === "NXDOMAIN") response.header.rcode = NXDOMAIN;
      for (const value of a.values) {
        response.answers.push((type === "TXT" ? { name: q.name, type: TYPE.TXT, class: dns2.Packet.CLASS.IN, ttl: 1, data: value } : { name: q.name, type: TYPE.A, class: dns2.Packet.CLASS.IN, ttl: 1, address: value }) as never);
      }
    }
    void send(response).catch(() => undefined);
  };
  let lastError: unknown;
  for (const port of o.ports ?? [53, 0]) {
    try {
      const { server, port: bound } = await listenOn(o.host, port, handle);
      log.info({ server: `${o.host}:${bound}`, zone: o.zoneFile }, "local DNS server listening");
      return { server: `${o.host}:${bound}`, stop: () => server.close() };
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`the local DNS server cannot listen on ${o.host}: ${String(lastError)}`);
}
