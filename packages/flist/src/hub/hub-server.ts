/**
 * The hub: an HTTP server for blocks and flists.
 * - `GET|HEAD|PUT /blocks/<hh>/<id>`: blocks in rfs layout (so `<hub>/blocks` is an http store);
 *   a PUT must be signed by a twin (`x-zgrid-auth`, see hub-auth.ts) known to the hub, fit the
 *   twin's quota, and is stored only when its bytes hash to the id.
 * - `POST /blocks/missing`: batch existence check (ids of 32 bytes concatenated; answers the
 *   missing ones the same way): a push asks once instead of once per block.
 * - `GET /flists[/<owner>]`: JSON listing; `GET /flists/<owner>/<name>.fl`: the file.
 * - `PUT /flists/<owner>/<name>.fl`: accepted only when signed by `owner` (a twin address) and
 *   when the hub holds every block; the route table is rewritten to the hub's blocks. The listing is
 *   validated in a worker thread (limits, linear-time index, signature), never on the event loop.
 * - `POST /convert {image, name}`: converts an OCI image (registry reference) into a flist signed
 *   by the hub's key, streaming progress as JSON lines.
 *
 * @example
 * ```ts
 * const hub = await startHub({ dataDir: "/srv/hub", port: 0, key });
 * hub.url; // http://127.0.0.1:PORT
 * await hub.close();
 * ```
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { createLogger } from "@zgrid/log";
import { BaseError, type TwinKey } from "@zgrid/types";
import { checkBlockId } from "../format/block-codec.ts";
import { TAGS } from "../format/schema.ts";
import { DirStore } from "../store/dir-store.ts";
import { HUB_AUTH_HEADER, checkHubRequest } from "./hub-auth.ts";
import { openHubQuota } from "./hub-quota.ts";
import { validateListing, type ValidateResult } from "./validate-worker.ts";
import { handleConvert } from "./hub-convert.ts";

const log = createLogger("flist.hub");

export interface HubOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** URL clients reach the hub at (default http://host:port). */
  publicUrl?: string;
  /** Key that signs flists the hub converts from OCI images. */
  key?: TwinKey;
  /** Largest accepted block (default 16 MiB) and flist (default 512 MiB). */
  maxBlockBytes?: number;
  maxFlistBytes?: number;
  /** "twin" (default): block PUTs must be signed by a twin; "open": anyone may upload (tests, private hubs). */
  blockAuth?: "twin" | "open";
  /** Is this twin allowed to upload (e.g. registered on chain)? Default: any twin with a valid signature. */
  knownTwin?: (address: `0x${string}`) => boolean | Promise<boolean>;
  /** Bytes of new blocks each twin may upload (persisted in `<dataDir>/quota.db`, kept across restarts). Default 64 GiB. */
  maxBytesPerTwin?: number;
  /** Time limit of validating one uploaded listing, ms (default 120 s). */
  validateTimeoutMs?: number;
}

export interface Hub {
  url: string;
  server: Server;
  store: DirStore;
  close(): Promise<void>;
}

export interface HubFlistEntry {
  owner: string;
  name: string;
  url: string;
  size: number;
  signer?: string;
}

const OWNER = /^0x[0-9a-fA-F]{40}$/;
/** Ids one `POST /blocks/missing` may ask about (a 3 GiB image has ~6,000 blocks of 512 KiB). */
export const MAX_CHECK_IDS = 20_000;
/** Image conversions a hub runs at once (each pulls and packs a whole image). */
const MAX_CONVERTS = 2;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.fl$/;

class HttpError extends BaseError {
  override readonly code: string = "HUB_HTTP";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? 0) > max) throw new HttpError(413, `body larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of req) {
    total += (c as Buffer).length;
    if (total > max) throw new HttpError(413, `body larger than ${max} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads the `zgrid.signer` tag without checking the whole file (listing only). */
function readSignerTag(path: string): string | undefined {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const r = db.prepare("select value from tag where key = ?").get(TAGS.signer) as { value?: unknown } | undefined;
      return r?.value === undefined ? undefined : String(r.value);
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const store = new DirStore(join(options.dataDir, "blocks"));
  const flistDir = join(options.dataDir, "flists");
  mkdirSync(flistDir, { recursive: true });
  mkdirSync(store.root, { recursive: true });
  const maxBlock = options.maxBlockBytes ?? 16 * 2 ** 20;
  const maxFlist = options.maxFlistBytes ?? 512 * 2 ** 20;
  const maxPerTwin = options.maxBytesPerTwin ?? 64 * 2 ** 30;
  const quota = openHubQuota(join(options.dataDir, "quota.db"), maxPerTwin);
  // A hub killed between a charge and its block's write: keep what was stored, give back the rest.
  const recovered = quota.recover((block) => store.pathOf(Buffer.from(block, "hex")) !== undefined);
  for (const block of [...recovered.kept, ...recovered.refunded]) store.discardPartial(Buffer.from(block, "hex"));
  if (recovered.refunded.length + recovered.kept.length) log.warn({ kept: recovered.kept.length, refunded: recovered.refunded.length }, "quota charges of uploads cut by a crash settled");
  // Crash-test hook, never set in production: every block upload stops for good at the named
  // point, so a test can SIGKILL the hub exactly between a charge and its write (or its settle).
  const failpoint = process.env.ZGRID_HUB_FAILPOINT;
  if (failpoint) log.warn({ failpoint }, "ZGRID_HUB_FAILPOINT is set: block uploads stop at this point (crash tests only)");
  const hold = (point: "after-charge" | "after-write") => (failpoint === point ? new Promise<never>(() => undefined) : undefined);
  let converting = 0;
  const signers = new Map<string, string | undefined>();
  let publicUrl = options.publicUrl ?? "";

  const list = (owner?: string): HubFlistEntry[] => {
    const owners = owner ? [owner] : readdirSync(flistDir).filter((o) => OWNER.test(o));
    return owners.flatMap((o) => (existsSync(join(flistDir, o)) ? readdirSync(join(flistDir, o)) : []).filter((n) => NAME.test(n)).map((name) => {
      const path = join(flistDir, o, name);
      // The signer tag only (no integrity check of the whole file on the event loop), cached.
      const st = statSync(path);
      const cacheKey = `${path}:${st.mtimeMs}:${st.size}`;
      if (!signers.has(cacheKey)) signers.set(cacheKey, readSignerTag(path));
      const signer = signers.get(cacheKey);
      return { owner: o, name, url: `${publicUrl}/flists/${o}/${name}`, size: statSync(path).size, signer };
    }));
  };

  /** Accepts a .fl file at `tmp` for `owner/name`: signature by owner, all blocks present. */
  const acceptFlist = async (tmp: string, owner: string, name: string): Promise<HubFlistEntry> => {
    let result: ValidateResult;
    try {
      result = await validateListing({ file: tmp, owner, routeUrl: `${publicUrl}/blocks` }, options.validateTimeoutMs ?? 120_000);
    } catch (e) {
      throw new HttpError((e as { code?: string }).code === "FLIST_SIGNATURE" ? 403 : 400, (e as Error).message);
    }
    // a stat per block, synchronously: ~6,000 stats take milliseconds (an await per block, seconds)
    for (const hex of result.blocks) {
      if (!store.pathOf(Buffer.from(hex, "hex"))) throw new HttpError(409, `block ${hex} is not on the hub: push blocks first`);
    }
    log.info({ owner, name, signer: result.signer }, "flist accepted");
    mkdirSync(join(flistDir, owner), { recursive: true });
    renameSync(tmp, join(flistDir, owner, name));
    return list(owner).find((e) => e.name === name)!;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://hub");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = req.method ?? "GET";
    if (parts[0] === "blocks" && parts.length === 3 && /^[0-9a-f]{2}$/.test(parts[1]!) && /^[0-9a-f]{64}$/.test(parts[2]!) && parts[2]!.startsWith(parts[1]!)) {
      const id = Buffer.from(parts[2]!, "hex");
      if (method === "PUT") {
        let twin: string | undefined;
        if (options.blockAuth !== "open") {
          try {
            twin = checkHubRequest(req.headers[HUB_AUTH_HEADER], "PUT", url.pathname);
          } catch (e) {
            throw new HttpError(401, `${(e as Error).message}; sign block uploads with your twin key (pushFlist({ key }))`);
          }
          if (options.knownTwin && !(await options.knownTwin(twin as `0x${string}`))) throw new HttpError(403, `twin ${twin} is not known to this hub`);
        }
        const body = await readBody(req, maxBlock);
        try { checkBlockId(id, body); } catch { throw new HttpError(400, "block content does not hash to its id"); }
        if (await store.has(id)) return sendJson(res, 200, { id: parts[2] });
        // Charged and recorded as pending in one transaction before the write, settled after it:
        // a crash in between is settled by recover() at the next start (stored or given back).
        const charge = twin ? quota.charge(twin, body.length, parts[2]!) : undefined;
        if (twin && charge === undefined) {
          throw new HttpError(413, `twin ${twin} is over its upload quota of ${maxPerTwin} bytes (${quota.used(twin)} used)`);
        }
        await hold("after-charge");
        try {
          await store.set(id, body);
        } catch (e) {
          if (charge !== undefined) quota.refund(charge);
          throw e;
        }
        await hold("after-write");
        if (charge !== undefined) quota.settle(charge);
        return sendJson(res, 201, { id: parts[2] });
      }
      const file = store.pathOf(id);
      if (!file) throw new HttpError(404, "no such block");
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": statSync(file).size });
      if (method === "HEAD") return void res.end();
      await pipeline(createReadStream(file), res);
      return;
    }
    if (parts[0] === "blocks" && parts[1] === "missing" && parts.length === 2 && method === "POST") {
      // batch existence check: 32-byte ids concatenated in, the missing ones concatenated out
      const body = await readBody(req, MAX_CHECK_IDS * 32);
      if (body.length % 32 !== 0) throw new HttpError(400, "body must be block ids of 32 bytes each, concatenated");
      const missing: Buffer[] = [];
      for (let i = 0; i < body.length; i += 32) {
        const id = body.subarray(i, i + 32);
        if (!store.pathOf(id)) missing.push(id);
      }
      const out = Buffer.concat(missing);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": out.length, "x-zgrid-missing": String(missing.length) });
      res.end(out);
      return;
    }
    if (parts[0] === "flists" && method === "GET" && parts.length <= 2) {
      if (parts[1] && !OWNER.test(parts[1])) throw new HttpError(400, "owner must be a twin address");
      return sendJson(res, 200, list(parts[1]));
    }
    if (parts[0] === "flists" && parts.length === 3) {
      const [, owner, name] = parts as [string, string, string];
      if (!OWNER.test(owner) || !NAME.test(name)) throw new HttpError(400, "path must be /flists/<twin address>/<name>.fl");
      const file = join(flistDir, owner, name);
      if (method === "GET" || method === "HEAD") {
        if (!existsSync(file)) throw new HttpError(404, "no such flist");
        res.writeHead(200, { "content-type": "application/x-sqlite3", "content-length": statSync(file).size });
        if (method === "HEAD") return void res.end();
        await pipeline(createReadStream(file), res);
        return;
      }
      if (method === "PUT") {
        mkdirSync(join(options.dataDir, "tmp"), { recursive: true });
        const tmp = join(options.dataDir, "tmp", `${Date.now()}-${Math.random().toString(36).slice(2)}.fl`);
        try {
          if (Number(req.headers["content-length"] ?? 0) > maxFlist) throw new HttpError(413, `flist larger than ${maxFlist} bytes`);
          let total = 0;
          await pipeline(req, async function* (source: AsyncIterable<Buffer>) {
            for await (const c of source) {
              total += c.length;
              if (total > maxFlist) throw new HttpError(413, `flist larger than ${maxFlist} bytes`);
              yield c;
            }
          }, createWriteStream(tmp));
          return sendJson(res, 201, await acceptFlist(tmp, owner, name));
        } catch (e) {
          if (e instanceof BaseError && !(e instanceof HttpError)) throw new HttpError(e.code === "FLIST_SIGNATURE" ? 403 : 400, e.shortMessage);
          throw e;
        } finally {
          rmSync(tmp, { force: true });
        }
      }
    }
    if (parts[0] === "convert" && method === "POST" && parts.length === 1) {
      if (!options.key) throw new HttpError(501, "this hub has no signing key: conversion is disabled");
      if (options.blockAuth !== "open") {
        let twin: string;
        try {
          twin = checkHubRequest(req.headers[HUB_AUTH_HEADER], "POST", url.pathname);
        } catch (e) {
          throw new HttpError(401, `${(e as Error).message}; sign convert requests with your twin key (convertOnHub({ key }))`);
        }
        if (options.knownTwin && !(await options.knownTwin(twin as `0x${string}`))) throw new HttpError(403, `twin ${twin} is not known to this hub`);
      }
      if (converting >= MAX_CONVERTS) throw new HttpError(429, `the hub is converting ${converting} images already; try again in a minute`);
      let body: { image?: string; name?: string };
      try {
        body = JSON.parse((await readBody(req, 65536)).toString() || "{}") as { image?: string; name?: string };
      } catch {
        throw new HttpError(400, "body must be JSON {image, name?}");
      }
      converting++;
      try {
        await handleConvert(res, {
          image: body.image, name: body.name, key: options.key, workDir: join(options.dataDir, "tmp"), dataDir: options.dataDir, store, accept: acceptFlist,
          existing: (owner, name) => (existsSync(join(flistDir, owner, name)) ? list(owner).find((e) => e.name === name) : undefined),
        });
      } finally {
        converting--;
      }
      return;
    }
    throw new HttpError(404, "not found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      // a client that went away mid-answer (a reader closing a lazy mount, a machine powered off)
      // is not the hub's failure: debug, not error
      const gone = req.destroyed || res.destroyed || (e as Error).message === "Premature close";
      if (status === 500) log[gone ? "debug" : "error"]({ err: (e as Error).message, url: req.url }, gone ? "client went away mid-answer" : "hub request failed");
      if (!res.headersSent) sendJson(res, status, { error: e instanceof BaseError ? e.shortMessage : (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  publicUrl ||= `http://${options.host ?? "127.0.0.1"}:${addr.port}`;
  return {
    url: publicUrl,
    server,
    store,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        quota.close();
        resolve();
      });
    }),
  };
}
