/**
 * Typed errors of the micro-VM layer. Each has a stable `code`, short message, `details` and a `hint`.
 *
 * @example
 * ```ts
 * try { await hv.start(spec); } catch (e) { if (e instanceof VmStartError) log.error(e.toJSON()); }
 * ```
 */
import { BaseError, type BaseErrorOptions } from "@zgrid/types";

/** The VM spec is malformed (bad id, mountpoint, IP, env key, ...). */
export class VmSpecError extends BaseError {
  override readonly code: string = "VM_SPEC_INVALID";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "fix the VM spec and retry", ...options });
  }
}

/** No VM with that id is known in the hypervisor's state directory. */
export class VmNotFoundError extends BaseError {
  override readonly code: string = "VM_NOT_FOUND";
  constructor(id: string) {
    super(`vm ${id} does not exist`, { details: { id }, hint: "list VMs with Hypervisor.list()" });
  }
}

/** QEMU did not start, or the guest never came up. `details.consoleTail` has the last console lines. */
export class VmStartError extends BaseError {
  override readonly code: string = "VM_START_FAILED";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "read the VM console log and QEMU's stderr in details", ...options });
  }
}

/** A QMP command failed or the QMP socket did not answer. */
export class QmpError extends BaseError {
  override readonly code: string = "VM_QMP_FAILED";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "the QEMU process may have died; check Hypervisor.status()", ...options });
  }
}

/** The VM is in a state that does not allow the operation (e.g. pause of a stopped VM). */
export class VmStateError extends BaseError {
  override readonly code: string = "VM_BAD_STATE";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, options);
  }
}

/** A host tool (ip, mkfs.ext4, qemu) failed. */
export class HostCommandError extends BaseError {
  override readonly code: string = "HOST_COMMAND_FAILED";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "install packages/zos/apt-packages.txt (bash scripts/setup.sh) and run as root", ...options });
  }
}

/** The guest kernel/initramfs are missing. */
export class GuestMissingError extends BaseError {
  override readonly code: string = "GUEST_MISSING";
  constructor(dir: string) {
    super(`guest kernel/initramfs not found in ${dir}`, { details: { dir }, hint: "run bash packages/zos/scripts/setup.sh" });
  }
}

/** The guest agent (vm exec, graceful stop, health checks) could not do what was asked. */
export class VmAgentError extends BaseError {
  override readonly code: string = "VM_AGENT_FAILED";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "the VM must be a running container-mode VM; its console log says whether the agent started", ...options });
  }
}
