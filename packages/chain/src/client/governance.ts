/** Governance of the Zero-OS version: proposals, farmer votes, the approved version. */
import { parseEventLogs, type Address } from "viem";
import { governanceAbi } from "../abis.ts";
import { read, write, type GridContext } from "./context.ts";

export interface Proposal {
  id: number; proposer: Address; version: string; safeToUpgrade: boolean; description: string;
  deadline: bigint; yesWeight: bigint; noWeight: bigint; closed: boolean; approved: boolean;
}

export function governanceActions(ctx: GridContext) {
  const address = ctx.addresses.governance;
  return {
    /**
     * A council member proposes a Zero-OS version.
     * @example const id = await council.propose({ version: "v0.2.0", safeToUpgrade: true, votingSeconds: 7n * 86400n });
     */
    async propose(p: { version: string; safeToUpgrade: boolean; description?: string; votingSeconds: bigint }): Promise<number> {
      const receipt = await write(ctx, address, governanceAbi, "propose", [p.version, p.safeToUpgrade, p.description ?? "", p.votingSeconds]);
      const [log] = parseEventLogs({ abi: governanceAbi, eventName: "ProposalCreated", logs: receipt.logs });
      return log!.args.proposalId;
    },
    /** A farmer votes for one of its farms (weight: the farm's 2*CU+SU). */
    async vote(proposalId: number, farmId: number, yes: boolean): Promise<void> {
      await write(ctx, address, governanceAbi, "vote", [proposalId, farmId, yes]);
    },
    /** Closes a proposal after its deadline (anyone); an approved one sets the version. */
    async closeProposal(proposalId: number): Promise<boolean> {
      const receipt = await write(ctx, address, governanceAbi, "close", [proposalId]);
      const [log] = parseEventLogs({ abi: governanceAbi, eventName: "ProposalClosed", logs: receipt.logs });
      return log!.args.approved;
    },
    async setSafeToUpgrade(safe: boolean): Promise<void> {
      await write(ctx, address, governanceAbi, "setSafeToUpgrade", [safe]);
    },
    async setCouncilMember(account: Address, member: boolean): Promise<void> {
      await write(ctx, address, governanceAbi, "setCouncilMember", [account, member]);
    },
    async getProposal(id: number): Promise<Proposal> {
      return { ...(await read(ctx, address, governanceAbi, "getProposal", [id])) };
    },
    /** The version nodes should run, and whether every node may upgrade to it now. */
    async getZosVersion(): Promise<{ version: string; safeToUpgrade: boolean }> {
      const [version, safeToUpgrade] = await Promise.all([
        read(ctx, address, governanceAbi, "zosVersion", []),
        read(ctx, address, governanceAbi, "safeToUpgrade", []),
      ]);
      return { version, safeToUpgrade };
    },
  };
}
