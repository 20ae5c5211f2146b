/**
 * The explorer's HTTP server (node:http): the REST API (JSON, ETags, 400s that say what was wrong),
 * the OpenAPI document, server-sent events for live updates, Prometheus metrics and the built web
 * dashboard. Bounded: URL length, SSE clients, request time.
 *
 * @example
 * ```ts
 * const server = await startApiServer({ db, windows, port: 8080, indexStatus: () => ({}), metrics: () => "" });
 * server.broadcast("nodes", { changed: [3] });
 * await server.close();
 * ```
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { createLogger } from "@zgrid/log";
import { BaseError } from "@zgrid/types";
import { openApiDocument } from "./openapi.ts";
import { NotFoundError, resolve, type RouteContext } from "./routes.ts";

const log = createLogger("explorer.api");
const MAX_URL = 2048;
const MAX_SSE_CLIENTS = 200;
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png", ".ico": "image/x-icon" };

export interface ApiServerOptions extends RouteContext {
  port?: number;
  host?: string;
  /** Directory of the built dashboard (index.html + assets); absent → the API only. */
  webDir?: string;
  /** Extra Prometheus text lines (index lag …). */
  metrics: () => string;
}

export interface ApiServer { url: string; broadcast(event: string, data: unknown): void; requests: Map<string, number>; close(): Promise<void> }

export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const clients = new Set<ServerResponse>();
  const requests = new Map<string, number>();
  const count = (k: string) => requests.set(k, (requests.get(k) ?? 0) + 1);
  const openapi = JSON.stringify(openApiDocument());

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string, type = "application/json") => {
    const etag = `W/"${createHash("sha1").update(body).digest("base64url")}"`;
    res.setHeader("ETag", etag);
    res.setHeader("Cache-Control", "no-cache");
    if (status === 200 && req.headers["if-none-match"] === etag) { res.writeHead(304).end(); return; }
    res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) }).end(body);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, hint?: string) =>
    send(req, res, status, JSON.stringify({ code, message, ...(hint ? { hint } : {}) }));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? "").length > MAX_URL) return fail(req, res, 414, "URI_TOO_LONG", `the URL is longer than ${MAX_URL} characters`);
    if (req.method !== "GET" && req.method !== "HEAD") return fail(req, res, 405, "METHOD_NOT_ALLOWED", "the explorer is read-only: use GET");
    const url = new URL(req.url ?? "/", "http://explorer");
    const path = url.pathname;
    if (path === "/api/v1/openapi.json") return send(req, res, 200, openapi);
    if (path === "/metrics") return send(req, res, 200, o.metrics() + requestMetrics(requests), "text/plain; version=0.0.4");
    if (path === "/api/v1/events") return sse(req, res);
    if (path.startsWith("/api/")) {
      count(path.replace(/\d+/g, ":id"));
      const r = resolve(path, url.searchParams);
      if (!r) return fail(req, res, 404, "NOT_FOUND", `no API route ${path.slice(0, 100)}`, "see /api/v1/openapi.json");
      return send(req, res, 200, JSON.stringify(await r.route.handle(o, r.params, r.match)));
    }
    return serveStatic(req, res, path);
  };

  const sse = (req: IncomingMessage, res: ServerResponse) => {
    if (clients.size >= MAX_SSE_CLIENTS) return fail(req, res, 503, "TOO_MANY_LISTENERS", "too many live-update listeners; try again later");
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    res.write(": connected\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (!o.webDir) return fail(req, res, 404, "NOT_FOUND", "no dashboard built", "run scripts/setup.sh (builds packages/explorer/web)");
    const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, "");
    let file = join(o.webDir, rel);
    if (!file.startsWith(o.webDir + sep) && file !== o.webDir) return fail(req, res, 400, "BAD_PATH", "bad path");
    const st = await stat(file).catch(() => undefined);
    // client-side routes (/nodes/3, /farms/1 …) get the app shell
    if (!st?.isFile()) file = join(o.webDir, "index.html");
    const body = await readFile(file).catch(() => undefined);
    if (!body) return fail(req, res, 404, "NOT_FOUND", "no dashboard built", "run scripts/setup.sh (builds packages/explorer/web)");
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": body.length }).end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof NotFoundError) return fail(req, res, 404, e.code, e.shortMessage);
      if (e instanceof BaseError && e.code === "BAD_REQUEST") return fail(req, res, 400, e.code, e.shortMessage, e.hint);
      log.error({ err: e, url: req.url }, "API request failed");
      if (!res.headersSent) fail(req, res, 500, "INTERNAL", "the explorer failed to answer; see its log");
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((r, j) => { server.once("error", j); server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => r()); });
  const addr = server.address() as { port: number };
  const heartbeat = setInterval(() => { for (const c of clients) c.write(": ping\n\n"); }, 15_000);
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${addr.port}`,
    requests,
    broadcast(event, data) {
      const line = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const c of clients) c.write(line);
    },
    async close() {
      clearInterval(heartbeat);
      for (const c of clients) c.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function requestMetrics(requests: Map<string, number>): string {
  const lines = ["# HELP zgrid_explorer_api_requests_total API requests by route.", "# TYPE zgrid_explorer_api_requests_total counter"];
  for (const [route, n] of requests) lines.push(`zgrid_explorer_api_requests_total{route="${route}"} ${n}`);
  return lines.join("\n") + "\n";
}
