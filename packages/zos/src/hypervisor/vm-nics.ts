/**
 * The NICs of a VM: `spec.network` is the first (eth0 in cloud-init terms), `spec.extraNetworks`
 * follow. Each gets a tap and a MAC derived from the VM id and its index unless the spec names
 * them. The guest finds each NIC by MAC (virtio-mmio probe order is not command-line order).
 *
 * @example
 * ```ts
 * for (const nic of vmNics(spec)) await ensureTap(nic.tap, nic.net.bridge);
 * ```
 */
import { macFor, tapNameFor } from "./tap.ts";
import type { VmNetwork, VmSpec } from "./vm-spec.ts";

export interface VmNic {
  index: number;
  tap: string;
  mac: string;
  net: VmNetwork;
}

export function vmNics(spec: VmSpec): VmNic[] {
  const nets = [...(spec.network ? [spec.network] : []), ...spec.extraNetworks];
  return nets.map((net, index) => {
    const key = index === 0 ? spec.id : `${spec.id}#${index}`;
    return { index, net, tap: net.tap ?? tapNameFor(key), mac: (net.mac ?? macFor(key)).toLowerCase() };
  });
}
