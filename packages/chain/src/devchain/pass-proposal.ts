/**
 * Walks one governance call through its whole life on a dev chain — proposed by a council member,
 * voted yes by the given farms, closed after the voting period, executed after the timelock — by
 * moving the chain's clock. For tests and local grids; on a real grid each step takes days.
 */
import type { GridClient } from "../client/create-grid-client.ts";
import type { GovernedCall } from "../client/governed-calls.ts";
import { GovernanceError } from "../errors/governance-errors.ts";

export interface PassProposalParams {
  council: GridClient;
  voters: { client: GridClient; farmId: number }[];
  /** Moves chain time forward (DevChain.advanceTime). */
  advanceTime: (seconds: number) => Promise<void>;
  call: GovernedCall;
  description?: string;
}

/**
 * @example
 * ```ts
 * const id = await passProposal({ council: g.admin, voters: [{ client: g.farmer, farmId: g.farmId }],
 *   advanceTime: (s) => g.chain.advanceTime(s), call: governedCalls(g.chain.addresses).cancelContract(12) });
 * ```
 */
export async function passProposal(p: PassProposalParams): Promise<number> {
  const { minVotingSeconds, timelockSeconds } = await p.council.governanceParams();
  const id = await p.council.proposeCall(p.call, { votingSeconds: minVotingSeconds, ...(p.description ? { description: p.description } : {}) });
  for (const v of p.voters) await v.client.vote(id, v.farmId, true);
  await p.advanceTime(Number(minVotingSeconds) + 1);
  if (!(await p.council.closeProposal(id))) {
    throw new GovernanceError("Rejected", `proposal ${id} (${p.call.label}) was not approved`, { details: { proposalId: id } });
  }
  await p.advanceTime(Number(timelockSeconds) + 1);
  await p.council.executeProposal(id);
  return id;
}
