/**
 * Signing a deployment with a twin key, and checking its signature requirement (REFERENCE.md):
 * every signature verifies against its twin's chain account, signers are listed in requests,
 * required signers have signed, and the valid weight reaches weight_required.
 *
 * @example
 * ```ts
 * const signed = signDeployment(d, 7, twinKeyFromMnemonic(mnemonic));
 * await verifyDeploymentSignatures(signed, async (twin) => (await chain.getTwin(twin))?.account);
 * ```
 */
import { SignatureError } from "../errors/signature-error.ts";
import { signDigest, verifyDigest, type TwinKey } from "../keys/twin-key.ts";
import type { Deployment } from "./deployment.ts";
import { deploymentHash } from "./hash-deployment.ts";

/** Returns a copy of `d` carrying `twinId`'s signature of its hash (replacing an older one). */
export function signDeployment(d: Deployment, twinId: number, key: Pick<TwinKey, "privateKey">): Deployment {
  const signature = signDigest(key, deploymentHash(d));
  const others = d.signature_requirement.signatures.filter((s) => s.twin_id !== twinId);
  return {
    ...d,
    signature_requirement: {
      ...d.signature_requirement,
      signatures: [...others, { twin_id: twinId, signature, signature_type: "secp256k1" }],
    },
  };
}

/** Looks up a twin's chain account; undefined when the twin does not exist. */
export type AccountLookup = (twinId: number) => Promise<string | undefined> | string | undefined;

export interface SignatureCheck {
  /** Twins whose signature verified. */
  signers: number[];
  /** Their total weight. */
  weight: number;
}

/** Throws SignatureError saying which rule failed; returns the valid signers otherwise. */
export async function verifyDeploymentSignatures(d: Deployment, accountOf: AccountLookup): Promise<SignatureCheck> {
  const sr = d.signature_requirement;
  const digest = deploymentHash(d);
  const requests = new Map(sr.requests.map((r) => [r.twin_id, r]));
  const signers: number[] = [];
  let weight = 0;
  for (const s of sr.signatures) {
    const request = requests.get(s.twin_id);
    if (!request) {
      throw new SignatureError(`twin ${s.twin_id} signed but is not in the signature requests`, { details: { twin: s.twin_id } });
    }
    if (signers.includes(s.twin_id)) throw new SignatureError(`twin ${s.twin_id} signed twice`, { details: { twin: s.twin_id } });
    const account = await accountOf(s.twin_id);
    if (!account) throw new SignatureError(`twin ${s.twin_id} does not exist on chain`, { details: { twin: s.twin_id } });
    if (!verifyDigest(digest, s.signature, account)) {
      throw new SignatureError(`signature of twin ${s.twin_id} does not match the deployment (changed after signing, or signed by another key)`, {
        details: { twin: s.twin_id, account },
        hint: "sign the deployment hash again with the twin's key after the last change",
      });
    }
    signers.push(s.twin_id);
    weight += request.weight;
  }
  const missing = sr.requests.filter((r) => r.required && !signers.includes(r.twin_id)).map((r) => r.twin_id);
  if (missing.length > 0) {
    throw new SignatureError(`required signer(s) ${missing.join(", ")} did not sign`, { details: { missing } });
  }
  if (weight < sr.weight_required) {
    throw new SignatureError(`signatures weigh ${weight}, the deployment requires ${sr.weight_required}`, {
      details: { weight, required: sr.weight_required, signers },
    });
  }
  return { signers, weight };
}
