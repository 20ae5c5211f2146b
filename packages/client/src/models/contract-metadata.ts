/**
 * What a contract is for, stored in its metadata (≤ 512 bytes) so `ls` needs only the chain:
 * `{"v":1,"kind":"vm","name":"web","network":"net","project":"shop","spec":"3f2a…"}`.
 *
 * @example
 * ```ts
 * const m = parseMetadata(contract.metadata); // { kind: "vm", name: "web", … } or undefined
 * ```
 */
export interface ContractMetadata {
  v: 1;
  kind: "vm" | "network" | "gateway" | "zdb";
  name: string;
  network?: string;
  /** Set by `apply -f`: the spec's project, so a re-apply finds what it owns. */
  project?: string;
  /** Gateways: the name contract holding the name (cancelled with it). */
  nameContract?: number;
  /** Gateways: the VM it publishes (older records keep it in `network`), or the FQDN it serves. */
  vm?: string;
  fqdn?: string;
  /** Short hash of the model that made it (apply replaces it when the model changes). */
  spec?: string;
  /**
   * The owner consents to the deployment being re-placed (a 3bot service replica: its 3bot deploys
   * a new one elsewhere, then cancels this one) when the node's farm wants the node off: the node
   * counts it in its statistics (`isMovableMetadata` of @zgrid/types), the farmerbot may vacate it.
   */
  movable?: true;
}

export function encodeMetadata(m: Omit<ContractMetadata, "v">): string {
  const text = JSON.stringify({ v: 1, ...m });
  if (text.length > 512) throw new Error(`contract metadata too long (${text.length} > 512 bytes)`);
  return text;
}

export function parseMetadata(text: string): ContractMetadata | undefined {
  try {
    const m = JSON.parse(text) as Partial<ContractMetadata>;
    if (m.v === 1 && (m.kind === "vm" || m.kind === "network" || m.kind === "gateway" || m.kind === "zdb") && typeof m.name === "string") return m as ContractMetadata;
  } catch {
    // not ours: contracts made by other tools
  }
  return undefined;
}
