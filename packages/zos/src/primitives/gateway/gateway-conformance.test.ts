// gateway-fqdn-proxy and gateway-name-proxy against the manager conformance suite, with a real
// HAProxy routing to real HTTP backends on loopback (allowed by the test's egress policy). The
// footprint is what the node serves: a request for the gateway's host answered by its backend,
// the route in HAProxy's config, the HAProxy process. A daemon restart gets a new HaproxyGateway
// over the same directory (the old HAProxy keeps serving meanwhile); a half-provisioned gateway is
// one an earlier daemon set up and never recorded. The name contracts of gateway-name-proxy come
// from a small in-memory stand-in for the chain (the chain lookups are tested in zos-daemon.e2e).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { createLogger } from "@zgrid/log";
import { parseDeployment, type WorkloadOf } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { gatewayManagers } from "./gateway-managers.ts";
import { HaproxyGateway } from "./haproxy-gateway.ts";
import { freeLocalPort, listenLocal } from "../../testing/local-ports.ts";

const listen = listenLocal;
const freePort = freeLocalPort;
const servers: Server[] = [];
const backend = async (text: string) => {
  const s = createServer((_req, res) => res.end(text));
  servers.push(s);
  return listen(s);
};
const one = await backend("backend one");
const two = await backend("backend two");
const policy = new EgressPolicy({ allow: [`127.0.0.1:${one}`, `127.0.0.1:${two}`] });
const work = mkdtempSync(join(tmpdir(), "zos-gw-conf-"));
after(() => {
  for (const s of servers) s.close();
  rmSync(work, { recursive: true, force: true });
});

function get(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    request({ host: "127.0.0.1", port, headers: { host }, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    }).on("error", () => resolve("no answer")).on("timeout", function (this: { destroy(): void }) { this.destroy(); }).end();
  });
}

const deployment = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };
const DOMAIN = "gw1.zgrid.test";
const names = { contractIdByName: async (n: string) => (n === "shop" ? 5 : 0), getContract: async () => ({ twinId: 7, state: "created" }) };

for (const kind of ["gateway-fqdn-proxy", "gateway-name-proxy"] as const) {
  managerConformance(kind, async () => {
    const dir = mkdtempSync(join(work, "gw-"));
    const httpPort = await freePort();
    const httpsPort = await freePort();
    const proxies: HaproxyGateway[] = [];
    const managers = () => {
      const proxy = new HaproxyGateway({ dir, httpPort, httpsPort });
      proxies.push(proxy);
      const m = gatewayManagers({ domain: DOMAIN, names, proxy, policy, findNetwork: () => undefined });
      return kind === "gateway-fqdn-proxy" ? m.fqdn : m.name;
    };
    const host = kind === "gateway-fqdn-proxy" ? "shop.example.org" : `shop.${DOMAIN}`;
    const data = (port: number) => (kind === "gateway-fqdn-proxy" ? { fqdn: host, backends: [`http://127.0.0.1:${port}`], tls_passthrough: false } : { name: "shop", backends: [`http://127.0.0.1:${port}`], tls_passthrough: false });
    const gw = (port: number, version = 0) => ({ version, name: "gw", type: kind, metadata: "", description: "", data: data(port) }) as WorkloadOf<typeof kind>;
    const context = { deployment, workloadId: `7-12-gw`, log: createLogger("test.gateway"), resultOf: () => undefined };
    const workload = gw(one);
    const manager = managers();
    return {
      manager: manager as never,
      workload: workload as never,
      context,
      footprint: async () => {
        const pidFile = join(dir, "haproxy.pid");
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim().split("\n")[0]) : 0;
        const running = pid > 0 && (() => { try { process.kill(pid, 0); return true; } catch { return false; } })();
        const answer = running ? await get(httpPort, host) : "no answer";
        const cfg = existsSync(join(dir, "haproxy.cfg")) && running ? readFileSync(join(dir, "haproxy.cfg"), "utf8") : "";
        return [
          ...(running ? ["haproxy running"] : []),
          ...(cfg.includes(host) ? [`route for ${host} in haproxy.cfg`] : []),
          ...(/^200 /.test(answer) ? [`${host} answered: ${answer}`] : []),
        ];
      },
      // a gateway an earlier daemon set up and was killed before it recorded it
      halfProvision: async () => {
        await managers().provision(context, workload as never);
        return managers() as never; // the daemon started again
      },
      restarted: () => managers() as never,
      refused: { workload: gw(1) as never, error: /127\.0\.0\.1 is a loopback address/ },
      update: {
        workload: gw(two, 1) as never,
        async check(result) {
          assert.deepEqual(result, { fqdn: host });
          assert.equal(await get(httpPort, host), "200 backend two", "the gateway now routes to the new backend");
        },
      },
      cleanup: async () => {
        for (const p of proxies) await p.stopProxy();
      },
    };
  });
}
