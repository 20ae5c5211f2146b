/**
 * Consent to be moved: a deployment whose metadata (JSON, ≤ 512 bytes, see the client's
 * contract-metadata) carries `"movable": true` tells the farm its owner re-places it on request
 * (a replica of a 3bot service: the 3bot deploys a new one elsewhere, then cancels this one). The
 * node counts such deployments in its statistics; the farmerbot may then vacate a node whose
 * deployments are all movable, to power it off (consolidation, as Kubernetes' cluster-autoscaler
 * drains a node whose pods may be evicted). Anything else (no metadata, not JSON, `"movable":"yes"`)
 * is not consent.
 *
 * @example
 * ```ts
 * isMovableMetadata('{"v":1,"kind":"vm","name":"web_2","movable":true}'); // true
 * isMovableMetadata('{"v":1,"kind":"vm","name":"db"}');                  // false
 * ```
 */
export function isMovableMetadata(metadata: string): boolean {
  if (!metadata.includes('"movable"')) return false;
  try {
    const m = JSON.parse(metadata) as unknown;
    return typeof m === "object" && m !== null && (m as { movable?: unknown }).movable === true;
  } catch {
    return false;
  }
}
