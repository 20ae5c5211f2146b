/** Governance: version and call proposals, farmer votes, the approved version, timelocked calls. */
import { keccak256, parseEventLogs, toBytes, type Address, type Hex } from "viem";
import { governanceAbi } from "../abis.ts";
import { read, write, type GridContext } from "./context.ts";
import type { GovernedCall } from "./governed-calls.ts";

/** An approved call runs from `eta` (0 until approved); `executed` once it ran. */
export interface ProposalCall { target: Address; data: Hex; eta: bigint; executed: boolean }

/** A release as governance knows it: the signed manifest's hash and where to fetch it. */
export interface ReleaseRef { manifestHash: Hex; manifestUrl: string }

/** What a node reported: the version it runs, the last one it failed to take ("" if none), when. */
export interface NodeVersionReport { running: string; failed: string; at: bigint }

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
    /**
     * A council member proposes an admin call (see `governedCalls`); approved, it runs after the timelock.
     * @example const id = await council.proposeCall(governedCalls(addresses).cancelContract(12), { votingSeconds: 86400n });
     */
    async proposeCall(call: GovernedCall, p: { description?: string; votingSeconds: bigint }): Promise<number> {
      const receipt = await write(ctx, address, governanceAbi, "proposeCall", [call.target, call.data, p.description ?? call.label, p.votingSeconds]);
      const [log] = parseEventLogs({ abi: governanceAbi, eventName: "CallProposed", logs: receipt.logs });
      return log!.args.proposalId;
    },
    /**
     * A council member proposes a release (its signed manifest); approved, nodes upgrade to it in waves.
     * @example const id = await council.proposeRelease({ version: "v2", manifestHash: "0x…", manifestUrl: "http://hub/releases/v2.json", votingSeconds: 86400n });
     */
    async proposeRelease(p: { version: string; manifestHash: Hex; manifestUrl: string; description?: string; votingSeconds: bigint }): Promise<number> {
      const receipt = await write(ctx, address, governanceAbi, "proposeRelease", [p.version, p.manifestHash, p.manifestUrl, p.description ?? `release ${p.version}`, p.votingSeconds]);
      const [log] = parseEventLogs({ abi: governanceAbi, eventName: "ReleaseProposed", logs: receipt.logs });
      return log!.args.proposalId;
    },
    async getProposalRelease(proposalId: number): Promise<ReleaseRef> {
      return { ...(await read(ctx, address, governanceAbi, "getRelease", [proposalId])) };
    },
    /**
     * The approved release: version, manifest, whether nodes may take it, and when it was approved
     * (chain seconds; 0 before the first release). A zero `manifestHash` means a bare version proposal.
     * @example const r = await client.getApprovedRelease(); if (r.safeToUpgrade && r.manifestHash !== ZERO) …
     */
    async getApprovedRelease(): Promise<ReleaseRef & { version: string; safeToUpgrade: boolean; approvedAt: bigint }> {
      const [version, safeToUpgrade, [manifestHash, manifestUrl], approvedAt] = await Promise.all([
        read(ctx, address, governanceAbi, "zosVersion", []),
        read(ctx, address, governanceAbi, "safeToUpgrade", []),
        read(ctx, address, governanceAbi, "release", []),
        read(ctx, address, governanceAbi, "releaseApprovedAt", []),
      ]);
      return { version, safeToUpgrade, manifestHash, manifestUrl, approvedAt };
    },
    /**
     * The node (this client's twin) reports the version it runs and the one it rolled back from ("" if none).
     * @example await node.reportVersion({ running: "v2", failed: "v3" });
     */
    async reportVersion(r: { running: string; failed?: string }): Promise<void> {
      await write(ctx, address, governanceAbi, "reportVersion", [r.running, r.failed ?? ""]);
    },
    async getNodeVersion(nodeId: number): Promise<NodeVersionReport> {
      return { ...(await read(ctx, address, governanceAbi, "getNodeVersion", [nodeId])) };
    },
    /** Distinct nodes that failed `version`'s health gate. */
    async failedReports(version: string): Promise<number> {
      return read(ctx, address, governanceAbi, "failedReports", [keccak256(toBytes(version))]);
    },
    /** Runs an approved call after its timelock (anyone may). */
    async executeProposal(proposalId: number): Promise<void> {
      await write(ctx, address, governanceAbi, "execute", [proposalId]);
    },
    async getProposalCall(proposalId: number): Promise<ProposalCall> {
      return { ...(await read(ctx, address, governanceAbi, "getCall", [proposalId])) };
    },
    /** Minimum voting period and the delay between approval and execution of a call (seconds). */
    async governanceParams(): Promise<{ minVotingSeconds: bigint; timelockSeconds: bigint }> {
      const [minVotingSeconds, timelockSeconds] = await Promise.all([
        read(ctx, address, governanceAbi, "minVotingSeconds", []),
        read(ctx, address, governanceAbi, "timelockSeconds", []),
      ]);
      return { minVotingSeconds, timelockSeconds };
    },
    /** A farmer votes for one of its farms (weight: the farm's 2*CU+SU). */
    async vote(proposalId: number, farmId: number, yes: boolean): Promise<void> {
      await write(ctx, address, governanceAbi, "vote", [proposalId, farmId, yes]);
    },
    /** Closes a proposal after its deadline (anyone); an approved version is set, an approved call queued. */
    async closeProposal(proposalId: number): Promise<boolean> {
      const receipt = await write(ctx, address, governanceAbi, "close", [proposalId]);
      const [log] = parseEventLogs({ abi: governanceAbi, eventName: "ProposalClosed", logs: receipt.logs });
      return log!.args.approved;
    },
    async setSafeToUpgrade(safe: boolean): Promise<void> {
      await write(ctx, address, governanceAbi, "setSafeToUpgrade", [safe]);
    },
    async isCouncilMember(account: Address): Promise<boolean> {
      return read(ctx, address, governanceAbi, "isCouncil", [account]);
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
