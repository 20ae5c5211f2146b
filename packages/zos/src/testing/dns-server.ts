/**
 * A tiny authoritative DNS server for tests (the `dns2` package, UDP): answers TXT questions from
 * a map the test fills, NXDOMAIN-like empty answers otherwise. Used to prove FQDN gateway
 * ownership (`_zgrid.<fqdn>` TXT records) without touching real DNS.
 *
 * @example
 * ```ts
 * const dns = await startTestDns("127.0.0.1");
 * dns.txt.set("_zgrid.shop.example.org", ["zgrid-twin=7"]);
 * dns.server; // "127.0.0.1:40123" (for the node's gateway.fqdnResolvers)
 * await dns.stop();
 * ```
 */
import dns2 from "dns2";

export interface TestDns {
  server: string;
  txt: Map<string, string[]>;
  /** TXT questions seen (name, lower case). */
  asked: string[];
  stop(): Promise<void>;
}

export async function startTestDns(host: string): Promise<TestDns> {
  const txt = new Map<string, string[]>();
  const asked: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = dns2.Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q && q.type === dns2.Packet.TYPE.TXT) {
        const name = q.name.toLowerCase();
        asked.push(name);
        for (const data of txt.get(name) ?? []) response.answers.push({ name: q.name, type: dns2.Packet.TYPE.TXT, class: dns2.Packet.CLASS.IN, ttl: 1, data } as never);
      }
      void send(response);
    },
  });
  const addrs = await server.listen({ udp: { port: 0, address: host } });
  const port = (addrs as unknown as { udp: { port: number } }).udp.port;
  return { server: `${host}:${port}`, txt, asked, stop: () => server.close() };
}
