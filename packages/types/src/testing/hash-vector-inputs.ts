/**
 * The deployments behind test-vectors/deployment-hash.json. Regenerate the file only when the
 * encoding version changes: `node packages/types/scripts/make-hash-vectors.ts`.
 */
import { sampleDeploymentJson } from "./sample-deployment.ts";

const base = (workloads: unknown[], extra: Record<string, unknown> = {}) => ({
  version: 0,
  twin_id: 1,
  signature_requirement: { requests: [{ twin_id: 1, required: true, weight: 1 }], weight_required: 1 },
  workloads,
  ...extra,
});

export function hashVectorInputs(): Array<{ name: string; deployment: unknown }> {
  const sample = sampleDeploymentJson();
  return [
    { name: "empty", deployment: base([]) },
    { name: "one zmount", deployment: base([{ name: "disk", type: "zmount", data: { size: 1048576 } }]) },
    { name: "unicode metadata", deployment: base([], { metadata: "naïve ☁ 雲", description: "ü" }) },
    { name: "full sample", deployment: sample },
    { name: "full sample, version 1", deployment: { ...sample, version: 1 } },
    { name: "multisig", deployment: base([{ name: "v", type: "volume", data: { size: 2097152 } }], {
      twin_id: 3,
      signature_requirement: { requests: [{ twin_id: 3, required: true, weight: 2 }, { twin_id: 4, required: false, weight: 1 }], weight_required: 3, signature_style: "" },
    }) },
  ];
}
