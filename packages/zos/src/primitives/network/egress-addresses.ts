/**
 * The egress addresses (100.127.x.y in the ndmz) of the node's networks, allocated — not hashed
 * from the network id, where a name found by brute force could collide with another twin's
 * network and cut its egress. Each network id gets the first free address, recorded in a JSON
 * file (written atomically) so it survives restarts; released when the network is deleted.
 *
 * @example
 * ```ts
 * const book = new EgressAddressBook("/var/lib/zos/egress-addresses.json");
 * await book.allocate("5f1c9a2e");  // "100.127.1.1" (the same on every later call)
 * await book.release("5f1c9a2e");
 * ```
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BaseError } from "@zgrid/types";

export class EgressAddressError extends BaseError {
  override readonly code: string = "EGRESS_ADDRESS";
}

/** 100.127.0.0/16 without .0.x (the node's gateway lives at .0.1) and without x.0 / x.255. */
const CAPACITY = 254 * 254;

function addressAt(i: number): string {
  return `100.127.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}

export class EgressAddressBook {
  readonly #file: string | undefined;
  readonly #byId = new Map<string, string>();
  #chain: Promise<unknown> = Promise.resolve();

  /** `file`: where allocations are kept (none: in memory only, for tests). */
  constructor(file?: string) {
    this.#file = file;
    if (!file) return;
    let saved: Record<string, string> = {};
    try {
      saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    } catch { /* first start */ }
    for (const [id, a] of Object.entries(saved)) if (typeof a === "string" && /^100\.127\.\d+\.\d+$/.test(a)) this.#byId.set(id, a);
  }

  /** The network's address: the recorded one, else `prefer` when free (adoption), else the first free one. */
  allocate(id: string, prefer?: string): Promise<string> {
    return this.#serial(() => {
      const known = this.#byId.get(id);
      if (known) return known;
      const used = new Set(this.#byId.values());
      let address = prefer && /^100\.127\.([1-9]\d*)\.([1-9]\d*)$/.test(prefer) && !used.has(prefer) ? prefer : undefined;
      for (let i = 0; !address && i < CAPACITY; i++) if (!used.has(addressAt(i))) address = addressAt(i);
      if (!address) throw new EgressAddressError(`no free egress address left on this node (${CAPACITY} networks)`, { hint: "delete unused networks" });
      this.#byId.set(id, address);
      this.#save();
      return address;
    });
  }

  release(id: string): Promise<void> {
    return this.#serial(() => {
      if (this.#byId.delete(id)) this.#save();
    });
  }

  /** Every allocation (id → address). */
  entries(): Array<[string, string]> {
    return [...this.#byId];
  }

  #serial<T>(f: () => T): Promise<T> {
    const run = this.#chain.then(f);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#byId)) + "\n");
    renameSync(tmp, this.#file);
  }
}
