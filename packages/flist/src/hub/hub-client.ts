/**
 * Client side of the hub: push a signed flist (missing blocks first, then the .fl) and list.
 *
 * @example
 * ```ts
 * const entry = await pushFlist({ hub: "http://127.0.0.1:8080", flist: "app.fl", key }); // key signs block uploads
 * await mountFlist({ flist: entry.url, ... });
 * ```
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { StoreError } from "../errors/flist-errors.ts";
import { FlistReader } from "../format/flist-reader.ts";
import { TAGS } from "../format/schema.ts";
import type { BlockStore } from "../store/block-store.ts";
import { HttpStore } from "../store/http-store.ts";
import { resolveStores } from "../store/resolve-stores.ts";
import type { TwinKey } from "@zgrid/types";
import { signHubRequest } from "./hub-auth.ts";
import type { HubFlistEntry } from "./hub-server.ts";

export interface PushOptions {
  hub: string;
  flist: string;
  /** Where the blocks are now (default: the flist's routes). */
  stores?: BlockStore | string[];
  /** Name on the hub (default: the file name). */
  name?: string;
  concurrency?: number;
  /** Twin key that signs block uploads (hubs refuse unsigned block PUTs). Its twin owns the flist. */
  key?: Pick<TwinKey, "privateKey" | "address">;
}

export async function pushFlist(options: PushOptions): Promise<HubFlistEntry & { uploadedBlocks: number }> {
  const hub = options.hub.replace(/\/+$/, "");
  const reader = FlistReader.open(options.flist);
  const owner = reader.tag(TAGS.signer);
  let uploaded = 0;
  try {
    if (!owner) throw new StoreError(`${options.flist} is not signed: the hub only accepts signed flists`, { hint: "run `zgrid-flist sign` first" });
    const source = resolveStores(reader, options.stores);
    const key = options.key;
    const target = new HttpStore(`${hub}/blocks`, { writable: true, ...(key ? { sign: (method: "PUT", path: string) => signHubRequest(key, method, path) } : {}) });
    const queue = reader.allBlocks();
    const worker = async (): Promise<void> => {
      while (queue.length > 0) {
        const b = queue.shift()!;
        if (await target.has(b.id)) continue;
        await target.set(b.id, await source.get(b.id));
        uploaded++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  } finally {
    reader.close();
  }
  const name = options.name ?? basename(options.flist);
  const res = await fetch(`${hub}/flists/${owner}/${name}`, { method: "PUT", body: readFileSync(options.flist) });
  const body = (await res.json()) as HubFlistEntry & { error?: string };
  if (!res.ok) throw new StoreError(`hub refused ${name}: ${body.error ?? res.status}`, { details: { status: res.status } });
  return { ...body, uploadedBlocks: uploaded };
}

export async function listHubFlists(hub: string, owner?: string): Promise<HubFlistEntry[]> {
  const res = await fetch(`${hub.replace(/\/+$/, "")}/flists${owner ? `/${owner}` : ""}`);
  if (!res.ok) throw new StoreError(`hub answered ${res.status}`);
  return (await res.json()) as HubFlistEntry[];
}
