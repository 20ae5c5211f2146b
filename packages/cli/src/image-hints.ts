/**
 * What a VM's image serves, so `vm get` suggests only what works: ssh when the image has an sshd,
 * the ports its ExposedPorts name (`zgrid.ports` tag). Reads the flist listing from the hub (at most
 * 32 MiB, 5 s); unknown when the hub does not answer.
 *
 * @example
 * ```ts
 * await imageHints("http://hub/flists/0x…/app.fl"); // { ssh: false, ports: [8000] }
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ImageHints { ssh: boolean; ports: number[] }

const MAX_FLIST = 32 * 1024 ** 2;

export async function imageHints(flistUrl: string): Promise<ImageHints | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hints-"));
  try {
    const res = await fetch(flistUrl, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok || Number(res.headers.get("content-length") ?? 0) > MAX_FLIST) {
      await res.body?.cancel();
      return undefined;
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_FLIST) return undefined;
    const file = join(dir, "x.fl");
    writeFileSync(file, bytes);
    const { FlistReader, resolveInListing } = await import("@zgrid/flist");
    const reader = FlistReader.open(file);
    try {
      const ssh = ["/usr/sbin/sshd", "/sbin/sshd", "/usr/bin/dropbear", "/usr/sbin/dropbear"].some((p) => resolveInListing(reader, p)?.type === "file");
      const ports = (reader.tag("zgrid.ports") ?? "").split(",").filter((p) => /^\d+(\/tcp)?$/.test(p)).map((p) => Number.parseInt(p, 10));
      return { ssh, ports };
    } finally {
      reader.close();
    }
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
