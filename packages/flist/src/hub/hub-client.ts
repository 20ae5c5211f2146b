/**
 * Client side of the hub: push a signed flist (missing blocks first, then the .fl), list, and ask
 * the hub to convert an image (`convertOnHub`, cached by digest on the hub).
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
  onProgress?(event: { phase: string; [k: string]: unknown }): void;
}

/** Ids per `POST /blocks/missing` (the hub's MAX_CHECK_IDS). */
const CHECK_BATCH = 20_000;

/**
 * The ids the hub does not hold, asked in one request per 20,000 ids (`POST /blocks/missing`);
 * undefined when the hub has no batch check (then the caller asks per block).
 */
export async function missingBlocks(hub: string, ids: readonly Uint8Array[]): Promise<Uint8Array[] | undefined> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < ids.length; i += CHECK_BATCH) {
    const body = Buffer.concat(ids.slice(i, i + CHECK_BATCH).map((id) => Buffer.from(id)));
    let res: Response;
    try {
      res = await fetch(`${hub.replace(/\/+$/, "")}/blocks/missing`, { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
    } catch (cause) {
      throw new StoreError(`cannot reach the hub at ${hub}`, { cause });
    }
    if (res.status === 404 || res.status === 405) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new StoreError(`the hub answered ${res.status} to the block check`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length % 32 !== 0) throw new StoreError("the hub's block check answer is not a list of ids");
    for (let j = 0; j < bytes.length; j += 32) out.push(bytes.subarray(j, j + 32));
  }
  return out;
}

export async function pushFlist(options: PushOptions): Promise<HubFlistEntry & { uploadedBlocks: number }> {
  const hub = options.hub.replace(/\/+$/, "");
  const reader = FlistReader.open(options.flist);
  const owner = reader.tag(TAGS.signer);
  let uploaded = 0;
  try {
    if (!owner) throw new StoreError(`${options.flist} is not signed: the hub only accepts signed flists`, { hint: "sign it first: `zgrid flist sign FILE` (your twin key from the local grid) or `zgrid image push`" });
    const source = resolveStores(reader, options.stores);
    const key = options.key;
    const target = new HttpStore(`${hub}/blocks`, { writable: true, ...(key ? { sign: (method: "PUT", path: string) => signHubRequest(key, method, path) } : {}) });
    const all = reader.allBlocks();
    const ids = [...new Map(all.map((b) => [Buffer.from(b.id).toString("hex"), b.id])).values()];
    options.onProgress?.({ phase: "check", blocks: ids.length });
    const missing = await missingBlocks(hub, ids);
    const queue = missing ? [...missing] : [...ids];
    const toSend = queue.length;
    options.onProgress?.({ phase: "upload", blocks: ids.length, missing: toSend, checked: missing !== undefined });
    const worker = async (): Promise<void> => {
      while (queue.length > 0) {
        const id = queue.shift()!;
        if (!missing && (await target.has(id))) continue; // an old hub without the batch check
        await target.set(id, await source.get(id));
        uploaded++;
        options.onProgress?.({ phase: "block", uploaded, of: toSend });
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

export interface HubConvertOptions {
  hub: string;
  /** `registry/name:tag` */
  image: string;
  /** Name on the hub (default `<name>-<tag>.fl`). */
  name?: string;
  /** Twin key that signs the request (hubs refuse unsigned conversions). */
  key: Pick<TwinKey, "privateKey" | "address">;
  onProgress?(event: { phase: string; [k: string]: unknown }): void;
  signal?: AbortSignal;
}

/**
 * Asks the hub to convert an image and publish it (signed by the hub). Resolves to the published
 * entry; `cached` when the hub already had that image digest (no layer was pulled).
 */
export async function convertOnHub(o: HubConvertOptions): Promise<HubFlistEntry & { digest?: string; cached: boolean }> {
  const hub = o.hub.replace(/\/+$/, "");
  let res: Response;
  try {
    res = await fetch(`${hub}/convert`, {
      method: "POST", headers: { "content-type": "application/json", ...signHubRequest(o.key, "POST", "/convert") },
      body: JSON.stringify({ image: o.image, ...(o.name ? { name: o.name } : {}) }), ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (cause) {
    throw new StoreError(`cannot reach the hub at ${hub}`, { cause });
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new StoreError(`the hub refused to convert ${o.image}: ${body.error ?? res.status}`, { details: { status: res.status }, ...(res.status === 501 ? { hint: "this hub has no signing key; convert locally with `zgrid image push`" } : {}) });
  }
  let last: Record<string, unknown> | undefined;
  let buffered = "";
  const decoder = new TextDecoder();
  const take = (text: string) => {
    buffered += text;
    let i: number;
    while ((i = buffered.indexOf("\n")) >= 0) {
      const l = buffered.slice(0, i).trim();
      buffered = buffered.slice(i + 1);
      if (!l) continue;
      const ev = JSON.parse(l) as Record<string, unknown>;
      last = ev;
      if (typeof ev.phase === "string" && ev.phase !== "published") o.onProgress?.(ev as { phase: string });
    }
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) take(decoder.decode(chunk, { stream: true }));
  take(`${decoder.decode()}\n`);
  if (!last || last.phase !== "published") throw new StoreError(`the hub could not convert ${o.image}: ${String(last?.error ?? "no answer")}`);
  return last as unknown as HubFlistEntry & { digest?: string; cached: boolean };
}
