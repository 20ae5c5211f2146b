/**
 * Turns a viem error from a call or transaction into zgrid's typed errors: each Solidity custom
 * error becomes a ChainRevertError subclass with a message that says what happened and a hint that
 * says what to do.
 */
import { BaseError as ViemBaseError, ContractFunctionRevertedError, HttpRequestError, decodeErrorResult, type Hex } from "viem";
import { gridAbi } from "../abis.ts";
import { BaseError } from "@zgrid/types";
import { AuthorizationError, ChainError, type ChainRevertError } from "./chain-error.ts";
import { TwinError } from "./twin-errors.ts";
import { FarmError } from "./farm-errors.ts";
import { NodeError } from "./node-errors.ts";
import { ContractError } from "./contract-errors.ts";
import { BillingError } from "./billing-errors.ts";
import { GovernanceError } from "./governance-errors.ts";

type Args = readonly unknown[];
type ErrorClass = new (name: string, message: string, options: { details: Record<string, unknown>; hint?: string; cause?: unknown }) => ChainRevertError;
interface Rule { kind: ErrorClass; message: (a: Args) => string; hint?: (a: Args) => string; fields: string[] }

const s = (v: unknown) => String(v);
const rules: Record<string, Rule> = {
  NotAdmin: { kind: AuthorizationError, fields: ["account"], message: (a) => `account ${s(a[0])} is not the admin`, hint: () => "admin powers belong to governance: propose the call (governance.proposeCall), farms vote, it runs after the timelock" },
  NotGovernance: { kind: AuthorizationError, fields: ["account"], message: (a) => `account ${s(a[0])} is not the governance contract`, hint: () => "propose the call (governance.proposeCall)" },
  NotMinter: { kind: AuthorizationError, fields: ["account"], message: (a) => `account ${s(a[0])} may not mint`, hint: () => "only the minter governance set may mint (the dev chain's faucet on a local grid)" },
  NotContractsModule: { kind: AuthorizationError, fields: ["account"], message: (a) => `account ${s(a[0])} is not the contracts module`, hint: () => "only the GridContracts contract may call this" },
  NoTwin: { kind: TwinError, fields: ["account"], message: (a) => `account ${s(a[0])} has no twin`, hint: () => "create a twin first (createTwin)" },
  TwinExists: { kind: TwinError, fields: ["account", "twinId"], message: (a) => `account ${s(a[0])} already has twin ${s(a[1])}`, hint: () => "one twin per account: use updateTwin, or another account" },
  TwinNotFound: { kind: TwinError, fields: ["twinId"], message: (a) => `twin ${s(a[0])} does not exist` },
  InvalidFarmName: { kind: FarmError, fields: ["name"], message: (a) => `farm name '${s(a[0])}' is not valid`, hint: () => "use 3-40 characters from A-Z a-z 0-9 - _" },
  FarmNameTaken: { kind: FarmError, fields: ["name", "farmId"], message: (a) => `farm name '${s(a[0])}' is taken by farm ${s(a[1])}`, hint: () => "choose another name" },
  FarmNotFound: { kind: FarmError, fields: ["farmId"], message: (a) => `farm ${s(a[0])} does not exist` },
  NotFarmer: { kind: AuthorizationError, fields: ["farmId", "twinId"], message: (a) => `twin ${s(a[1])} is not the farmer of farm ${s(a[0])}`, hint: () => "send it from the farm's twin account" },
  IpExists: { kind: FarmError, fields: ["farmId", "ip"], message: (a) => `farm ${s(a[0])} already has IP ${s(a[1])}` },
  IpNotFound: { kind: FarmError, fields: ["farmId", "ip"], message: (a) => `farm ${s(a[0])} has no IP ${s(a[1])}` },
  IpInUse: { kind: FarmError, fields: ["farmId", "ip", "contractId"], message: (a) => `IP ${s(a[1])} of farm ${s(a[0])} is used by contract ${s(a[2])}`, hint: () => "an IP can be removed only when no contract holds it" },
  NotEnoughFreeIps: { kind: FarmError, fields: ["farmId", "requested", "free"], message: (a) => `farm ${s(a[0])} has ${s(a[2])} free public IPs, ${s(a[1])} requested`, hint: () => "ask for fewer IPs or pick a node of another farm" },
  NodeExists: { kind: NodeError, fields: ["twinId", "nodeId"], message: (a) => `twin ${s(a[0])} already has node ${s(a[1])}`, hint: () => "one node per twin: use updateNode" },
  NodeNotFound: { kind: NodeError, fields: ["nodeId"], message: (a) => (a[0] === 0 ? "the sender's twin has no node" : `node ${s(a[0])} does not exist`) },
  NotNodeTwin: { kind: AuthorizationError, fields: ["nodeId", "twinId"], message: (a) => `twin ${s(a[1])} is not the twin of node ${s(a[0])}`, hint: () => "send it from the node's own twin account" },
  UptimeDrift: { kind: NodeError, fields: ["timestamp", "chainTime", "maxDrift"], message: (a) => `uptime timestamp ${s(a[0])} is more than ${s(a[2])} s from chain time ${s(a[1])}`, hint: () => "sync the node's clock and report the current time" },
  NodeHasContracts: { kind: NodeError, fields: ["nodeId", "count"], message: (a) => `node ${s(a[0])} has ${s(a[1])} live contracts`, hint: () => "wait until its contracts are cancelled" },
  PricingPolicyNotFound: { kind: BillingError, fields: ["policyId"], message: (a) => `pricing policy ${s(a[0])} does not exist` },
  NodeInStandby: { kind: ContractError, fields: ["nodeId"], message: (a) => `node ${s(a[0])} is in standby`, hint: () => "pick a node that is up, or ask its farmer to power it on" },
  NodeRentedByOther: { kind: ContractError, fields: ["nodeId", "renterTwinId"], message: (a) => `node ${s(a[0])} is rented by twin ${s(a[1])}`, hint: () => "pick another node" },
  NodeDedicatedNeedsRent: { kind: ContractError, fields: ["nodeId", "farmId"], message: (a) => `node ${s(a[0])} is dedicated (farm ${s(a[1])}) and not rented by you`, hint: () => "rent the node first (createRentContract)" },
  DuplicateContract: { kind: ContractError, fields: ["nodeId", "deploymentHash", "contractId"], message: (a) => `node ${s(a[0])} already has live contract ${s(a[2])} for this deployment hash`, hint: () => "reuse that contract, or change the deployment" },
  MetadataTooLong: { kind: ContractError, fields: ["length", "max"], message: (a) => `contract metadata is ${s(a[0])} bytes, at most ${s(a[1])} allowed` },
  InvalidName: { kind: ContractError, fields: ["name"], message: (a) => `name '${s(a[0])}' is not valid`, hint: () => "use 3-64 characters from a-z 0-9 - _" },
  NameTaken: { kind: ContractError, fields: ["name", "twinId"], message: (a) => `name '${s(a[0])}' is taken by twin ${s(a[1])}`, hint: () => "choose another name" },
  ContractNotFound: { kind: ContractError, fields: ["contractId"], message: (a) => `contract ${s(a[0])} does not exist` },
  NotContractOwner: { kind: AuthorizationError, fields: ["contractId", "twinId"], message: (a) => `twin ${s(a[1])} does not own contract ${s(a[0])}`, hint: () => "only the twin that created a contract may change or cancel it" },
  ContractInGrace: { kind: ContractError, fields: ["contractId"], message: (a) => `contract ${s(a[0])} is in its grace period`, hint: () => "top up the twin's balance and settle the contract first" },
  ContractNotLive: { kind: ContractError, fields: ["contractId"], message: (a) => `contract ${s(a[0])} is deleted` },
  NotNodeContract: { kind: ContractError, fields: ["contractId"], message: (a) => `contract ${s(a[0])} is not a node contract` },
  NodeAlreadyRented: { kind: ContractError, fields: ["nodeId", "contractId"], message: (a) => `node ${s(a[0])} is already rented (contract ${s(a[1])})`, hint: () => "pick another node" },
  RentHasNodeContracts: { kind: ContractError, fields: ["contractId", "count"], message: (a) => `rent contract ${s(a[0])} still has ${s(a[1])} node contracts on its node`, hint: () => "cancel the node contracts first" },
  InvalidShares: { kind: BillingError, fields: ["farmerPct", "burnPct"], message: (a) => `shares farmer ${s(a[0])}% + burn ${s(a[1])}% exceed 100%` },
  InsufficientBalance: { kind: BillingError, fields: ["account", "balance", "needed"], message: (a) => `account ${s(a[0])} has ${s(a[1])} tokens, ${s(a[2])} needed`, hint: () => "top up the account" },
  InsufficientAllowance: { kind: BillingError, fields: ["account", "spender", "allowance", "needed"], message: (a) => `allowance of ${s(a[1])} on ${s(a[0])} is ${s(a[2])}, ${s(a[3])} needed`, hint: () => "approve the spender first" },
  NotCouncil: { kind: AuthorizationError, fields: ["account"], message: (a) => `account ${s(a[0])} is not a council member`, hint: () => "council membership changes by a governance proposal (setCouncilMember)" },
  VotingTooShort: { kind: GovernanceError, fields: ["votingSeconds", "minVotingSeconds"], message: (a) => `a voting period of ${s(a[0])} s is shorter than the minimum ${s(a[1])} s`, hint: (a) => `give at least ${s(a[1])} s` },
  TargetNotGoverned: { kind: GovernanceError, fields: ["target"], message: (a) => `${s(a[0])} is not a contract governance may call` },
  NotExecutable: { kind: GovernanceError, fields: ["proposalId"], message: (a) => `proposal ${s(a[0])} is not an approved call`, hint: () => "only approved call proposals execute, after their timelock" },
  TimelockActive: { kind: GovernanceError, fields: ["proposalId", "eta"], message: (a) => `proposal ${s(a[0])} is timelocked until ${s(a[1])}`, hint: () => "execute it after the timelock" },
  AlreadyExecuted: { kind: GovernanceError, fields: ["proposalId"], message: (a) => `proposal ${s(a[0])} was already executed` },
  ProposalNotFound: { kind: GovernanceError, fields: ["proposalId"], message: (a) => `proposal ${s(a[0])} does not exist` },
  VotingClosed: { kind: GovernanceError, fields: ["proposalId", "deadline"], message: (a) => `voting on proposal ${s(a[0])} is closed` },
  VotingOpen: { kind: GovernanceError, fields: ["proposalId", "deadline"], message: (a) => `proposal ${s(a[0])} is open until ${s(a[1])}`, hint: () => "close it after its deadline" },
  AlreadyVoted: { kind: GovernanceError, fields: ["proposalId", "farmId"], message: (a) => `farm ${s(a[1])} already voted on proposal ${s(a[0])}` },
  BadRelease: { kind: GovernanceError, fields: ["version"], message: (a) => `release '${s(a[0])}' is not valid`, hint: () => "a release needs a version of 1-64 bytes, a non-zero manifest hash and a URL of at most 512 bytes; a failure count must be at least 1" },
  NoVotingWeight: { kind: GovernanceError, fields: ["farmId"], message: (a) => `farm ${s(a[0])} has no capacity to vote with`, hint: () => "register nodes in the farm first" },
};

/** Builds the typed error for a decoded Solidity custom error. */
export function revertToError(errorName: string, args: Args, cause?: unknown): BaseError {
  if (errorName === "CallFailed") return callFailed(args, cause);
  const rule = rules[errorName];
  if (!rule) return new ChainError(`the contract refused the call: ${errorName}(${args.map(s).join(", ")})`, { details: { revert: errorName }, cause });
  const details: Record<string, unknown> = { revert: errorName };
  rule.fields.forEach((f, i) => { const v = args[i]; details[f] = typeof v === "bigint" ? v.toString() : v; });
  const hint = rule.hint?.(args);
  return new rule.kind(errorName, rule.message(args), { details, ...(hint ? { hint } : {}), cause });
}

/** An executed governance call reverted: the inner grid error, with the proposal id in its details. */
function callFailed(args: Args, cause: unknown): BaseError {
  const [proposalId, reason] = args as [number, Hex];
  try {
    const inner = decodeErrorResult({ abi: gridAbi, data: reason });
    const err = revertToError(inner.errorName, (inner.args ?? []) as Args, cause);
    (err.details as Record<string, unknown>).proposalId = proposalId;
    return err;
  } catch {
    return new GovernanceError("CallFailed", `the call of proposal ${s(proposalId)} reverted (${reason})`, { details: { revert: "CallFailed", proposalId }, cause });
  }
}

/**
 * Converts anything thrown by viem into a zgrid BaseError (a typed revert when the contract refused).
 *
 * @example
 * ```ts
 * try { await write(); } catch (e) { throw toChainError(e, "createNodeContract"); }
 * ```
 */
export function toChainError(e: unknown, action: string): BaseError {
  if (e instanceof BaseError) return e;
  if (e instanceof ViemBaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      return revertToError(reverted.data.errorName, reverted.data.args ?? [], e);
    }
    // an error raised by another grid contract down the call (e.g. the registry) is not in the called ABI
    const raw: Hex | undefined = reverted instanceof ContractFunctionRevertedError ? reverted.raw : undefined;
    if (raw && raw.length >= 10) {
      try {
        const decoded = decodeErrorResult({ abi: gridAbi, data: raw });
        return revertToError(decoded.errorName, (decoded.args ?? []) as readonly unknown[], e);
      } catch { /* not a grid error */ }
    }
    if (reverted instanceof ContractFunctionRevertedError && reverted.reason) {
      return new ChainError(`${action} reverted: ${reverted.reason}`, { details: { action }, cause: e });
    }
    const http = e.walk((x) => x instanceof HttpRequestError);
    if (http instanceof HttpRequestError) {
      return new ChainError(`cannot reach the chain at ${http.url}`, {
        details: { action, url: http.url, status: http.status }, cause: e,
        hint: "is the chain running? start a dev chain with `node packages/chain/bin/devchain.ts`",
      });
    }
    return new ChainError(`${action} failed: ${e.shortMessage}`, { details: { action }, cause: e });
  }
  return new ChainError(`${action} failed: ${e instanceof Error ? e.message : String(e)}`, { details: { action }, cause: e });
}
