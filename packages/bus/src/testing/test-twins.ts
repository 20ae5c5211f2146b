/**
 * Test helpers: deterministic twin keys, their directory records, and buses that are stopped
 * after the test whatever happens.
 *
 * @example
 * ```ts
 * const grid = new TestGrid();
 * t.after(() => grid.close());
 * const [a, b] = await grid.buses(2);
 * ```
 */
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types/core";
import { createBus, type Bus, type BusOptions } from "../create-bus.ts";
import { StaticTwinDirectory } from "../directory/static-twin-directory.ts";
import type { TwinRecord } from "../directory/twin-directory.ts";
import { peerIdOfTwinKey } from "../identity/peer-identity.ts";

/** The key of test twin `id` (deterministic, never 0). */
export function testTwinKey(id: number): TwinKey {
  return twinKeyFromPrivateKey(`0x${(id + 1).toString(16).padStart(64, "0")}`);
}

/** A directory record for a test twin. */
export function testTwinRecord(id: number, addrs: string[] = [], relays: string[] = []): TwinRecord {
  const key = testTwinKey(id);
  return { id, account: key.address, peerId: peerIdOfTwinKey(key).toString(), addrs, relays };
}

export class TestGrid {
  readonly directory = new StaticTwinDirectory();
  readonly #buses: Bus[] = [];
  #nextTwin = 1;

  /** Starts a bus for a new twin (or `twinId`) and publishes its addresses in the directory. */
  async bus(options: Partial<BusOptions> = {}): Promise<Bus> {
    const twinId = options.twinId ?? this.#nextTwin++;
    if (!this.directory.has(twinId)) this.directory.set(testTwinRecord(twinId, [], options.relay?.reserveOn ?? []));
    const bus = await createBus({ key: testTwinKey(twinId), twinId, directory: this.directory, ...options });
    this.#buses.push(bus);
    await this.publish(bus, options.relay?.reserveOn);
    return bus;
  }

  async buses(n: number, options: Partial<BusOptions> = {}): Promise<Bus[]> {
    const out: Bus[] = [];
    for (let i = 0; i < n; i++) out.push(await this.bus(options));
    return out;
  }

  /** Writes a bus's current direct addresses (not its circuit ones) into its twin record. */
  async publish(bus: Bus, relays?: string[]): Promise<void> {
    const direct = bus.addresses().filter((a) => !a.includes("/p2p-circuit"));
    const known = await this.directory.getTwin(bus.twinId);
    this.directory.set(testTwinRecord(bus.twinId, direct, relays ?? known?.relays ?? []));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#buses.map((b) => b.stop()));
  }
}
