/**
 * The ISO/USB image for machines without PXE: Debian's isolinux + xorriso, the same kernel and
 * initramfs as the network boot, and the farm's kernel line baked into isolinux.cfg. Hybrid (MBR
 * from isohdpfx.bin): `dd` it to a USB stick, or attach it as a CD-ROM. Deterministic: fixed
 * timestamps and volume id, so the same inputs give the same bytes.
 *
 * @example
 * ```ts
 * await buildIso({ imageDir: ".tools/os", kernelLine: "zgrid.farm=1 …", output: ".tools/os/zgrid.iso" });
 * ```
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { BootServerError } from "./dnsmasq.ts";
import { BASE_KERNEL_WORDS } from "./ipxe-script.ts";

const ISOLINUX = "/usr/lib/ISOLINUX/isolinux.bin";
const MBR = "/usr/lib/ISOLINUX/isohdpfx.bin";
const LDLINUX = "/usr/lib/syslinux/modules/bios/ldlinux.c32";

export async function buildIso(o: { imageDir: string; kernelLine: string; output: string; extraWords?: string }): Promise<{ output: string; bytes: number }> {
  for (const f of [ISOLINUX, MBR, LDLINUX]) if (!existsSync(f)) throw new BootServerError(`${f} is missing`, { hint: "apt-get install isolinux syslinux-common xorriso" });
  const line = [BASE_KERNEL_WORDS, o.extraWords, o.kernelLine].filter(Boolean).join(" ");
  if (/[\r\n]/.test(line) || line.length > 2000) throw new BootServerError("kernel line has a line break or is longer than 2000 bytes");
  mkdirSync(dirname(o.output), { recursive: true });
  const work = mkdtempSync(join(dirname(o.output), ".iso-"));
  try {
    const tree = join(work, "tree");
    mkdirSync(join(tree, "isolinux"), { recursive: true });
    copyFileSync(ISOLINUX, join(tree, "isolinux", "isolinux.bin"));
    copyFileSync(LDLINUX, join(tree, "isolinux", "ldlinux.c32"));
    copyFileSync(join(o.imageDir, "vmlinuz"), join(tree, "vmlinuz"));
    copyFileSync(join(o.imageDir, "initrd.img"), join(tree, "initrd.img"));
    writeFileSync(join(tree, "isolinux", "isolinux.cfg"), `DEFAULT zgrid\nPROMPT 0\nTIMEOUT 10\nLABEL zgrid\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND ${line}\n`);
    for (const f of [...readdirSync(tree, { recursive: true }).map((p) => join(tree, String(p))), tree]) utimesSync(f, 0, 0);
    const tmp = join(work, "zgrid.iso");
    const r = spawnSync("xorriso", ["-as", "mkisofs", "-quiet", "-o", tmp, "-isohybrid-mbr", MBR, "-c", "isolinux/boot.cat", "-b", "isolinux/isolinux.bin",
      "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "-V", "ZGRID", "-J", "-R", tree], { encoding: "utf8", env: { ...process.env, SOURCE_DATE_EPOCH: "0" } });
    if (r.status !== 0) throw new BootServerError(`xorriso failed: ${(r.stderr || r.error?.message || "").trim().slice(-500)}`, { hint: "apt-get install xorriso isolinux syslinux-common" });
    renameSync(tmp, o.output);
    return { output: o.output, bytes: statSync(o.output).size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
