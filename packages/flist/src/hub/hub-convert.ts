/**
 * The hub's `POST /convert {image, name}`: pulls the image from its registry, converts it into
 * the hub's store, signs it with the hub key and publishes it under the hub's address. Progress
 * streams back as JSON lines; the last line is `{phase:"published", ...entry}` or `{error}`.
 *
 * @example
 * ```sh
 * curl -XPOST hub/convert -d '{"image":"127.0.0.1:5000/demo:1","name":"demo.fl"}'
 * ```
 */
import { mkdirSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import type { TwinKey } from "@zgrid/types";
import { convertOci } from "../oci/convert-oci.ts";
import type { DirStore } from "../store/dir-store.ts";
import type { HubFlistEntry } from "./hub-server.ts";

export interface ConvertRequest {
  image?: string;
  name?: string;
  key: TwinKey;
  workDir: string;
  store: DirStore;
  accept(tmp: string, owner: string, name: string): Promise<HubFlistEntry>;
}

export async function handleConvert(res: ServerResponse, req: ConvertRequest): Promise<void> {
  if (!req.image) {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "body must be {image, name?}" }));
    return;
  }
  const name = req.name ?? `${req.image.replace(/^.*\//, "").replace(/[^A-Za-z0-9._-]/g, "-")}.fl`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.fl$/.test(name)) {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "name must end in .fl and use [A-Za-z0-9._-]" }));
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (o: unknown): void => void res.write(`${JSON.stringify(o)}\n`);
  mkdirSync(req.workDir, { recursive: true });
  const tmp = join(req.workDir, `convert-${Date.now()}-${Math.random().toString(36).slice(2)}.fl`);
  try {
    await convertOci({ source: { registry: req.image }, output: tmp, stores: req.store, key: req.key, workDir: req.workDir, onProgress: line });
    const entry = await req.accept(tmp, req.key.address, name);
    line({ phase: "published", ...entry });
  } catch (e) {
    line({ error: (e as Error).message.split("\n")[0] });
  } finally {
    rmSync(tmp, { force: true });
  }
  res.end();
}
