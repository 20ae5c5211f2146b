/**
 * The hub's `POST /convert` handler: placeholder until the OCI importer lands.
 */
import type { ServerResponse } from "node:http";
import type { TwinKey } from "@zgrid/types";
import type { DirStore } from "../store/dir-store.ts";
import type { HubFlistEntry } from "./hub-server.ts";

export interface ConvertRequest {
  image?: string;
  name?: string;
  key: TwinKey;
  workDir: string;
  store: DirStore;
  accept(tmp: string, owner: string, name: string): Promise<HubFlistEntry>;
  insecure?: boolean;
}

export async function handleConvert(res: ServerResponse, _req: ConvertRequest): Promise<void> {
  res.writeHead(501, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: "conversion not implemented yet" }));
}
