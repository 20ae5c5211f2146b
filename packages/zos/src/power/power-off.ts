/**
 * `zos.system.power_off`: the farm's twin (and no one else) tells the node to power off. The node
 * refuses while it holds any live deployment or is rented; otherwise it drains (new deployments are
 * refused from this instant), reports `standby` on chain (setPowerState(false)), answers, and then
 * the daemon stops and its power switch cuts the power. A deployment that slipped in while the
 * chain call ran cancels the power-off (state reported up again).
 *
 * @example
 * ```ts
 * const power = new PowerControl({ nodeId, farmId, chain, liveDeployments: () => n, switchKind: "bmc", onOff: () => daemon.powerOff() });
 * await power.powerOff(callerTwin, { reason: "idle 30 min" }); // { node_id, state: "standby", switch: "bmc" }
 * power.assertAccepting();   // throws NodeDrainingError once draining
 * ```
 */
import type { Logger } from "@zgrid/log";
import { BaseError, type PowerOffAnswer } from "@zgrid/types";
import type { PowerSwitchKind } from "./power-switch.ts";

export class PowerOffRefusedError extends BaseError {
  override readonly code: string = "POWER_OFF_REFUSED";
}
export class NodeDrainingError extends BaseError {
  override readonly code: string = "NODE_DRAINING";
}
export class NotFarmTwinError extends BaseError {
  override readonly code: string = "NOT_FARM_TWIN";
}

export interface PowerChain {
  getFarm(farmId: number): Promise<{ twinId: number }>;
  rentContractOf(nodeId: number): Promise<number>;
  setPowerState(up: boolean): Promise<void>;
}

export interface PowerControlOptions {
  nodeId: number;
  farmId: number;
  chain: PowerChain;
  /** Live (not deleted) deployments on the node right now. */
  liveDeployments(): number;
  switchKind: PowerSwitchKind;
  /** Stops the daemon and cuts the power; called after the answer went out. */
  onOff(): void;
  log: Logger;
  /** Milliseconds between the answer and the power cut (lets the answer leave the node). */
  graceMs?: number;
}

export class PowerControl {
  private draining = false;
  private readonly o: PowerControlOptions;

  constructor(o: PowerControlOptions) {
    this.o = o;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Throws NodeDrainingError while the node is powering off (deploy/update call this first). */
  assertAccepting(): void {
    if (this.draining) throw new NodeDrainingError(`node ${this.o.nodeId} is powering off`, { hint: "pick another node, or ask the farm's bot to wake this one later" });
  }

  async powerOff(caller: number, request: { reason: string }): Promise<PowerOffAnswer> {
    const { nodeId, farmId, chain, log } = this.o;
    const farm = await chain.getFarm(farmId);
    if (caller !== farm.twinId) {
      throw new NotFarmTwinError(`only the twin of farm ${farmId} may power node ${nodeId} off`, { details: { caller, farmTwin: farm.twinId } });
    }
    if (this.o.switchKind === "none") {
      throw new PowerOffRefusedError(`node ${nodeId} has no power switch`, { hint: "set power.switch in the node config (acpi on servers, bmc on the local grid)" });
    }
    if (this.draining) return { node_id: nodeId, state: "standby", switch: this.o.switchKind };
    this.draining = true;
    try {
      const live = this.o.liveDeployments();
      if (live > 0) throw new PowerOffRefusedError(`node ${nodeId} holds ${live} deployment(s)`, { details: { deployments: live }, hint: "a node with workloads is never powered off" });
      const rent = await chain.rentContractOf(nodeId);
      if (rent !== 0) throw new PowerOffRefusedError(`node ${nodeId} is rented (contract ${rent})`, { details: { rentContract: rent }, hint: "a rented node is never powered off" });
      await chain.setPowerState(false);
      if (this.o.liveDeployments() > 0) {
        await chain.setPowerState(true);
        throw new PowerOffRefusedError(`node ${nodeId} accepted a deployment while draining`, { hint: "try again when it is idle" });
      }
    } catch (e) {
      this.draining = false;
      throw e;
    }
    log.info({ caller, reason: request.reason, switch: this.o.switchKind }, "powering off: standby reported on chain");
    setTimeout(() => this.o.onOff(), this.o.graceMs ?? 300);
    return { node_id: nodeId, state: "standby", switch: this.o.switchKind };
  }
}
