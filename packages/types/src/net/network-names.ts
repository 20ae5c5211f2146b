/**
 * The deterministic host names (bridge, namespace, veth pair) of one twin's network on one node.
 * Derived, never stored: the node creates them, the client shows how to reach a VM through them,
 * and a restarted daemon (or a cleanup pass) finds everything it created.
 *
 * @example
 * ```ts
 * networkNames(3, 7, "net"); // { id: "5f1c9a2e", bridge: "b-5f1c9a2e", namespace: "n-5f1c9a2e", … }
 * ```
 */
import { createHash } from "node:crypto";

/** Host names of one twin's network on one node: bridge, namespace and the veth pair. */
export interface NetworkNames {
  id: string;
  bridge: string;
  namespace: string;
  vethHost: string;
  vethNs: string;
}

export function networkNames(nodeId: number, twinId: number, name: string, scope = ""): NetworkNames {
  // Unique per node too: several node daemons may share one host (the local grid); `scope` (the
  // node's account) keeps nodes of different grids (same node id) on one machine apart.
  const id = createHash("sha256").update(`${nodeId}/${twinId}/${name}${scope ? `/${scope}` : ""}`).digest("hex").slice(0, 8);
  return { id, bridge: `b-${id}`, namespace: `n-${id}`, vethHost: `vh-${id}`, vethNs: `vn-${id}` };
}
