/**
 * Debian's dnsmasq as the boot server's DHCP + TFTP side on one interface: iPXE clients (user
 * class `iPXE`, e.g. QEMU's NIC ROMs) get the HTTP URL of the iPXE script directly; plain PXE
 * clients get Debian's `undionly.kpxe` by TFTP, which is iPXE and asks again. DNS is off.
 *
 * @example
 * ```ts
 * const d = await startDnsmasq({ iface: "br-boot", range: ["10.4.0.100", "10.4.0.200"], router: "10.4.0.1", scriptUrl: "http://10.4.0.1:8070/boot.ipxe", stateDir });
 * await d.stop();
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { BaseError } from "@zgrid/types";

export class BootServerError extends BaseError {
  override readonly code: string = "BOOT_SERVER";
}

export interface Dnsmasq {
  pid: number;
  stop(): Promise<void>;
}

const UNDIONLY = "/usr/lib/ipxe/undionly.kpxe";

export async function startDnsmasq(o: { iface: string; range: [string, string]; netmask?: string; router?: string; scriptUrl: string; stateDir: string }): Promise<Dnsmasq> {
  mkdirSync(join(o.stateDir, "tftp"), { recursive: true });
  const tftp = existsSync(UNDIONLY);
  if (tftp) copyFileSync(UNDIONLY, join(o.stateDir, "tftp", "undionly.kpxe"));
  const args = [
    // --user=root: the TFTP root and lease file live in the caller's state dir, which the
    // unprivileged dnsmasq user may not be able to traverse (e.g. a 0700 temp dir)
    "--keep-in-foreground", "--user=root", "--conf-file=/dev/null", "--port=0", `--interface=${o.iface}`, "--bind-interfaces", "--except-interface=lo",
    `--dhcp-range=${o.range[0]},${o.range[1]},${o.netmask ?? "255.255.255.0"},1h`, `--dhcp-leasefile=${join(o.stateDir, "dnsmasq.leases")}`,
    "--dhcp-userclass=set:ipxe,iPXE", `--dhcp-boot=tag:ipxe,${o.scriptUrl}`, "--log-dhcp", "--log-facility=-",
    ...(o.router ? [`--dhcp-option=option:router,${o.router}`] : []),
    ...(tftp ? ["--enable-tftp", `--tftp-root=${join(o.stateDir, "tftp")}`, "--dhcp-boot=tag:!ipxe,undionly.kpxe"] : []),
  ];
  const log = openSync(join(o.stateDir, "dnsmasq.log"), "a");
  let child: ChildProcess;
  try {
    child = spawn("dnsmasq", args, { stdio: ["ignore", log, log] });
  } catch (e) {
    throw new BootServerError(`cannot start dnsmasq: ${(e as Error).message}`, { hint: "apt-get install dnsmasq" });
  }
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => { child.off("exit", onExit); resolve(); }, 500);
    const onExit = (code: number | null) => {
      clearTimeout(t);
      reject(new BootServerError(`dnsmasq exited (${code}) on ${o.iface}`, { hint: `read ${join(o.stateDir, "dnsmasq.log")}; is the interface up with an address, and no other DHCP server on it?` }));
    };
    child.once("exit", onExit);
    child.once("error", (e) => { clearTimeout(t); reject(new BootServerError(`cannot start dnsmasq: ${e.message}`, { hint: "apt-get install dnsmasq" })); });
  });
  return {
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      child.once("exit", () => { clearTimeout(t); resolve(); });
      child.kill("SIGTERM");
    }),
  };
}
