/** The OpenAPI 3.1 document of the REST API, generated from the route table (so it cannot drift). */
import type { ParamSpec } from "./params.ts";
import { ROUTES } from "./routes.ts";

function schemaOf(s: ParamSpec): Record<string, unknown> {
  if (s.kind === "int") return { type: "integer", minimum: s.min ?? 0, maximum: s.max ?? Number.MAX_SAFE_INTEGER };
  if (s.kind === "bool") return { type: "boolean" };
  if (s.kind === "enum") return { type: "string", enum: s.values };
  return { type: "string", maxLength: s.max ?? 64, ...(s.pattern ? { pattern: s.pattern.source } : {}) };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of ROUTES) {
    const path = r.pattern.source.replace(/^\^/, "").replace(/\$$/, "").replace(/\\\//g, "/").replace("(\\d{1,10})", "{id}");
    paths[path] = {
      get: {
        summary: r.summary,
        parameters: [
          ...(path.includes("{id}") ? [{ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } }] : []),
          ...Object.entries(r.params).map(([name, s]) => ({ name, in: "query", required: false, schema: schemaOf(s) })),
        ],
        responses: {
          200: { description: "OK (JSON; list routes return {total, items}); carries an ETag" },
          304: { description: "Not modified (If-None-Match matched)" },
          400: { description: "Bad request: {code, message, hint?}" },
          404: { description: "Not found" },
        },
      },
    };
  }
  paths["/api/v1/events"] = { get: { summary: "server-sent events: `index` (new blocks indexed), `nodes` (node ids whose status changed)", responses: { 200: { description: "text/event-stream" } } } };
  paths["/metrics"] = { get: { summary: "Prometheus text metrics (index lag, events, API requests)", responses: { 200: { description: "text/plain" } } } };
  return { openapi: "3.1.0", info: { title: "zgrid explorer", version: "1" }, paths };
}
