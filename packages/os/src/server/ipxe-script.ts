/**
 * The iPXE script a farm's machines boot: Debian's kernel and the zgrid initramfs over HTTP, with
 * the farm's boot parameters on the kernel line (see boot/boot-params.ts).
 *
 * @example
 * ```ts
 * ipxeScript({ baseUrl: "http://10.4.0.1:8070", kernelLine: "zgrid.farm=1 …" });
 * // "#!ipxe\n…kernel http://10.4.0.1:8070/vmlinuz initrd=initrd.img console=tty0 console=ttyS0 zgrid.farm=1 …\n…"
 * ```
 */

/** Console and boot-speed words every zgrid node boots with (serial console last: it is the log). */
export const BASE_KERNEL_WORDS = "console=tty0 console=ttyS0 quiet cryptomgr.notests";

export function ipxeScript(o: { baseUrl: string; kernelLine: string; extraWords?: string }): string {
  const line = [BASE_KERNEL_WORDS, o.extraWords, o.kernelLine].filter(Boolean).join(" ");
  if (/[\r\n]/.test(line)) throw new Error("kernel line contains a line break");
  return [
    "#!ipxe",
    "echo zgrid: booting the stateless Zero-OS image",
    `kernel ${o.baseUrl}/vmlinuz initrd=initrd.img ${line}`,
    `initrd ${o.baseUrl}/initrd.img`,
    "boot || goto failed",
    ":failed",
    "echo zgrid: boot failed, retrying in 10 s",
    "sleep 10",
    "chain --autofree ${0} || reboot",
    "",
  ].join("\n");
}
