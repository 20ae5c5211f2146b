// Micro-VM layer of the Zero-OS node daemon: QEMU microvm hypervisor, guest config, taps, disks, monitor.
export { Hypervisor, type HypervisorOptions, type VmState, type VmStatus } from "./hypervisor.ts";
export { parseVmSpec, vmSpecSchema, type VmSpec, type VmSpecInput, type VmDisk, type VmNetwork } from "./vm-spec.ts";
export { probeAccel, probeBoot, type AccelChoice, type ProbeOptions } from "./accel-probe.ts";
export { findGuest, defaultGuestDir, hostTscKhz, type GuestArtifacts } from "./guest-artifacts.ts";
export { renderConfigSh, renderEnvSh, writeGuestConfig, shQuote, authorizedKeys } from "./guest-config.ts";
export { renderCloudInit, writeCloudInitSeed, type CloudInitFiles } from "./cloud-init-seed.ts";
export { buildQemuArgs, type Accel, type VmPaths } from "./qemu-command.ts";
export { qmpCommand } from "./qmp-client.ts";
export { ensureExt4Disk, removeDisk } from "./disk.ts";
export { ensureTap, removeTap, tapNameFor, macFor, linkExists } from "./tap.ts";
export { vmNics, type VmNic } from "./vm-nics.ts";
export { VmMonitor, type VmMonitorOptions, type MonitorEvent } from "./vm-monitor.ts";
export * from "./errors.ts";
export { buildBusyboxRoot } from "./busybox-root.ts";
