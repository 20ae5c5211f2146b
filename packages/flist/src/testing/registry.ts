/**
 * Test support: a real OCI registry (Debian's docker-registry) on 127.0.0.1 with its own config
 * in a temp dir, stopped by `stop()`; optionally with token auth served by a small token service.
 *
 * @example
 * ```ts
 * const reg = await startRegistry(dir); // reg.host = "127.0.0.1:PORT"
 * await reg.stop();
 * ```
 */
import { spawn, spawnSync } from "node:child_process";
import { createSign } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { freePort } from "@zgrid/types/free-port";
import { join } from "node:path";

export interface Registry {
  host: string;
  /** Token requests served (token auth only). */
  tokensIssued: number;
  stop(): Promise<void>;
}

const SERVICE = "zgrid-test-registry";
const ISSUER = "zgrid-test-issuer";

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

/**
 * A docker token service (the `realm` of the registry's Bearer challenge): grants every requested
 * scope, with or without credentials, as an RS256 JWT carrying the signing cert in `x5c`.
 */
async function startTokenServer(dir: string, counter: { n: number }): Promise<{ realm: string; certFile: string; server: Server }> {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=zgrid-test-token"], { stdio: "ignore" });
  if (r.status !== 0) throw new Error("openssl could not make the token signing certificate");
  const key = readFileSync(keyFile, "utf8");
  const der = Buffer.from(readFileSync(certFile, "utf8").replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const access = url.searchParams.getAll("scope").flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [der.toString("base64")] }));
    const claims = b64url(JSON.stringify({ iss: ISSUER, sub: "tester", aud: url.searchParams.get("service"), exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access }));
    const sig = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(key);
    const token = `${header}.${claims}.${b64url(sig)}`;
    counter.n++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { realm: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, certFile, server };
}

export { freePort };

export async function startRegistry(dir: string, options: { tokenAuth?: boolean; /** Address to listen on (default 127.0.0.1), e.g. a local grid's underlay host address so VMs pull from it. */ address?: string } = {}): Promise<Registry> {
  const port = await freePort();
  const address = options.address ?? "127.0.0.1";
  mkdirSync(join(dir, "data"), { recursive: true });
  const counter = { n: 0 };
  const token = options.tokenAuth ? await startTokenServer(dir, counter) : undefined;
  const auth = token ? ["auth:", "  token:", `    realm: ${token.realm}`, `    service: ${SERVICE}`, `    issuer: ${ISSUER}`, `    rootcertbundle: ${token.certFile}`] : [];
  const config = join(dir, "config.yml");
  writeFileSync(config, [
    "version: 0.1",
    "log:",
    "  level: error",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${address}:${port}`,
    ...auth,
    "",
  ].join("\n"));
  const child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => { stderr += c.toString(); });
  const host = `${address}:${port}`;
  const deadline = Date.now() + 20_000;
  while (true) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.ok || (token && res.status === 401)) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    get tokensIssued() { return counter.n; },
    stop: async () => {
      token?.server.close();
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    },
  };
}
