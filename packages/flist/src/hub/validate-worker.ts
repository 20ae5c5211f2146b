/**
 * Validates an uploaded listing off the hub's event loop: a worker thread opens the .fl (limits,
 * integrity), indexes it, checks the owner's signature, rewrites its routes to the hub and returns
 * the ids of its blocks. `validateListing` runs one worker per upload with a time limit; the
 * worker is terminated on timeout, so a hostile listing costs at most that much CPU.
 *
 * @example
 * ```ts
 * const { blocks, signer } = await validateListing({ file: tmp, owner, routeUrl: `${hub}/blocks` }, 120_000);
 * ```
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

export interface ValidateRequest {
  file: string;
  owner: string;
  /** Route written into the accepted listing. */
  routeUrl: string;
}

export interface ValidateResult {
  signer: string;
  /** Distinct block ids, hex. */
  blocks: string[];
}

export interface ValidateFailure {
  code: string;
  message: string;
}

/** Runs the validation in a worker thread; rejects with `{ code, message }`-carrying Error. */
export function validateListing(req: ValidateRequest, timeoutMs: number): Promise<ValidateResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: req, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(Object.assign(new Error(`listing not validated within ${timeoutMs} ms`), { code: "FLIST_FORMAT" }));
    }, timeoutMs);
    worker.once("message", (m: { ok: true; result: ValidateResult } | { ok: false; error: ValidateFailure }) => {
      clearTimeout(timer);
      if (m.ok) resolve(m.result);
      else reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    });
    worker.once("error", (e) => {
      clearTimeout(timer);
      reject(Object.assign(e, { code: "FLIST_FORMAT" }));
    });
    worker.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(Object.assign(new Error(`listing validation stopped (exit ${code})`), { code: "FLIST_FORMAT" }));
    });
  });
}

async function run(req: ValidateRequest): Promise<ValidateResult> {
  const { FlistReader } = await import("../format/flist-reader.ts");
  const { checkFlistSignature } = await import("../sign/sign-flist.ts");
  const { editFlist } = await import("../format/edit-flist.ts");
  const reader = FlistReader.open(req.file);
  let result: ValidateResult;
  try {
    const sig = await checkFlistSignature(reader, { trustedSigners: [req.owner] });
    const blocks = new Set<string>();
    for (const list of reader.index().byIno.keys()) for (const b of reader.blocks(list)) blocks.add(Buffer.from(b.id).toString("hex"));
    for (const { inode } of reader.walk()) if ((inode.mode & 0o170000) === 0o100000) reader.checkSize(inode, reader.blocks(inode.ino));
    result = { signer: sig.signer, blocks: [...blocks] };
  } finally {
    reader.close();
  }
  editFlist(req.file, { routes: [{ start: 0, end: 255, url: req.routeUrl }] });
  return result;
}

if (!isMainThread && parentPort && (workerData as ValidateRequest | undefined)?.file) {
  const port = parentPort;
  run(workerData as ValidateRequest).then(
    (result) => port.postMessage({ ok: true, result }),
    (e: unknown) => port.postMessage({ ok: false, error: { code: (e as { code?: string }).code ?? "FLIST_FORMAT", message: (e as { shortMessage?: string }).shortMessage ?? (e as Error).message } }),
  );
}
