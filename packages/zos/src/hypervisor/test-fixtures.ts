/**
 * Test helpers for VM tests (not part of the public API): a busybox root directory with an
 * entrypoint script, and a throwaway host bridge with a unique name and subnet.
 *
 * @example
 * ```ts
 * await buildBusyboxRoot("/tmp/x/root", "#!/bin/sh\necho hi\nexec sleep 1000\n");
 * const br = await createTestBridge();   // { name, hostIp, guestIp(n), prefix, remove() }
 * ```
 */
import { randomBytes } from "node:crypto";
import { runHost } from "./host-command.ts";

export { buildBusyboxRoot } from "./busybox-root.ts";

export interface TestBridge {
  name: string;
  hostIp: string;
  prefix: number;
  guestIp(n: number): string;
  remove(): Promise<void>;
}

/** A host bridge `zb<hex>` with 10.213.<rand>.1/24; remove() deletes it. */
export async function createTestBridge(): Promise<TestBridge> {
  const name = "zb" + randomBytes(4).toString("hex");
  const net = `10.213.${randomBytes(1)[0]!}`;
  await runHost("ip", ["link", "add", name, "type", "bridge"]);
  try {
    await runHost("ip", ["addr", "add", `${net}.1/24`, "dev", name]);
    await runHost("ip", ["link", "set", name, "up"]);
  } catch (e) {
    await runHost("ip", ["link", "del", name]).catch(() => undefined);
    throw e;
  }
  return {
    name,
    hostIp: `${net}.1`,
    prefix: 24,
    guestIp: (n) => `${net}.${n}`,
    remove: () => runHost("ip", ["link", "del", name]).then(() => undefined, () => undefined),
  };
}
