/**
 * Validates an uploaded listing off the hub's event loop: a worker thread opens the .fl (limits,
 * integrity), indexes it, checks the owner's signature, rewrites its routes to the hub and returns
 * the ids of its blocks. `validateListing` queues uploads on one long-lived worker with a time limit
 * each; the worker is terminated on timeout (and started again for the next upload), so a hostile
 * listing costs at most that much CPU.
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

/**
 * One long-lived worker validates uploads one after another (starting a worker per upload cost
 * seconds of module loading); a validation that overruns its time limit terminates the worker (a
 * hostile listing costs at most that much CPU) and the next one starts a fresh worker.
 */
let shared: { worker: Worker; busy: Promise<unknown> } | undefined;
let seq = 0;

function sharedWorker(): { worker: Worker; busy: Promise<unknown> } {
  if (!shared) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { serve: true }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    worker.unref();
    const mine = { worker, busy: Promise.resolve() as Promise<unknown> };
    worker.once("exit", () => { if (shared === mine) shared = undefined; });
    shared = mine;
  }
  return shared;
}

/** Runs the validation in the shared worker thread; rejects with `{ code, message }`-carrying Error. */
export function validateListing(req: ValidateRequest, timeoutMs: number): Promise<ValidateResult> {
  const w = sharedWorker();
  const run = w.busy.catch(() => undefined).then(() => new Promise<ValidateResult>((resolve, reject) => {
    const cur = shared === w ? w : sharedWorker();
    const id = ++seq;
    const done = () => {
      clearTimeout(timer);
      cur.worker.off("message", onMessage);
      cur.worker.off("exit", onExit);
      cur.worker.off("error", onError);
    };
    const timer = setTimeout(() => {
      done();
      if (shared === cur) shared = undefined;
      void cur.worker.terminate();
      reject(Object.assign(new Error(`listing not validated within ${timeoutMs} ms`), { code: "FLIST_FORMAT" }));
    }, timeoutMs);
    const onMessage = (m: { id: number } & ({ ok: true; result: ValidateResult } | { ok: false; error: ValidateFailure })) => {
      if (m.id !== id) return;
      done();
      if (m.ok) resolve(m.result);
      else reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    };
    const onError = (e: Error) => {
      done();
      reject(Object.assign(e, { code: "FLIST_FORMAT" }));
    };
    const onExit = (code: number) => {
      done();
      reject(Object.assign(new Error(`listing validation stopped (exit ${code})`), { code: "FLIST_FORMAT" }));
    };
    cur.worker.on("message", onMessage);
    cur.worker.once("error", onError);
    cur.worker.once("exit", onExit);
    cur.worker.ref();
    cur.worker.postMessage({ id, req });
  })).finally(() => { if (shared) shared.worker.unref(); });
  w.busy = run;
  return run;
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

if (!isMainThread && parentPort && (workerData as { serve?: boolean } | undefined)?.serve) {
  const port = parentPort;
  port.on("message", (m: { id: number; req: ValidateRequest }) => {
    run(m.req).then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (e: unknown) => port.postMessage({ id: m.id, ok: false, error: { code: (e as { code?: string }).code ?? "FLIST_FORMAT", message: (e as { shortMessage?: string }).shortMessage ?? (e as Error).message } }),
    );
  });
}
