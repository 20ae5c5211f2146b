/**
 * Walks a release proposal through governance on a dev chain: proposed by a council member, voted
 * yes by the given farms, closed after the voting period (the chain's clock is moved). On a real
 * grid each step takes days; on a local grid and in tests it takes a few blocks.
 *
 * @example
 * ```ts
 * await passRelease({ council: g.admin, voters: [{ client: g.farmer, farmId: g.farmId }],
 *   advanceTime: (s) => g.chain.advanceTime(s), version: "v2", manifestHash: "0x…", manifestUrl: "http://hub/r/v2.json" });
 * ```
 */
import type { Hex } from "viem";
import type { GridClient } from "../client/create-grid-client.ts";
import { GovernanceError } from "../errors/governance-errors.ts";

export interface PassReleaseParams {
  council: GridClient;
  voters: { client: GridClient; farmId: number }[];
  advanceTime: (seconds: number) => Promise<void>;
  version: string;
  manifestHash: Hex;
  manifestUrl: string;
}

/** Returns the proposal id; throws GovernanceError when the farms did not approve it. */
export async function passRelease(p: PassReleaseParams): Promise<number> {
  const { minVotingSeconds } = await p.council.governanceParams();
  const id = await p.council.proposeRelease({ version: p.version, manifestHash: p.manifestHash, manifestUrl: p.manifestUrl, votingSeconds: minVotingSeconds });
  for (const v of p.voters) await v.client.vote(id, v.farmId, true);
  await p.advanceTime(Number(minVotingSeconds) + 1);
  if (!(await p.council.closeProposal(id))) {
    throw new GovernanceError("Rejected", `release proposal ${id} (${p.version}) was not approved`, { details: { proposalId: id } });
  }
  return id;
}
