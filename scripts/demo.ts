// The demo behind Quick start command 1 (until `zgrid up` exists): a twin key from a fresh
// mnemonic, a deployment built, validated, hashed, signed and verified, its capacity and cost.
import {
  DEV_PRICES, ValidationError, costUnits, deploymentCapacity, deploymentHashHex, formatCapacity,
  newMnemonic, parseDeployment, signDeployment, twinKeyFromMnemonic, verifyDeploymentSignatures,
} from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing/sample-deployment";

const json = process.argv.includes("--json");
const out: Record<string, unknown> = {};
const say = (line: string) => { if (!json) process.stdout.write(`${line}\n`); };

const mnemonic = newMnemonic();
const key = twinKeyFromMnemonic(mnemonic);
say(`twin key: ${key.address} (from a new 12-word mnemonic)`);
out.account = key.address;

const deployment = parseDeployment(sampleDeploymentJson({ twinId: 1 }));
const hash = deploymentHashHex(deployment);
const cap = deploymentCapacity(deployment);
say(`deployment of ${deployment.workloads.length} workloads (${deployment.workloads.map((w) => `${w.name}:${w.type}`).join(", ")})`);
say(`  needs ${formatCapacity(cap)}; costs ${Number(costUnits(cap, 3600, DEV_PRICES)) / 1e7} USD/hour at dev prices`);
say(`  hash ${hash}`);
const signed = signDeployment({ ...deployment, contract_id: 1 }, 1, key);
const check = await verifyDeploymentSignatures(signed, () => key.address);
say(`  signed by twin 1, verified: signers ${check.signers.join(",")}, weight ${check.weight}`);
Object.assign(out, { hash, capacity: cap, signers: check.signers });

const bad = sampleDeploymentJson({ twinId: 1 }) as { workloads: Array<{ data: Record<string, unknown> }> };
(bad.workloads[3]!.data.compute_capacity as { cpu: number }).cpu = 0;
try {
  parseDeployment(bad);
} catch (e) {
  if (!(e instanceof ValidationError)) throw e;
  say(`a VM with cpu 0 is refused: ${e.message}`);
  out.refused = e.toJSON();
}
if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
