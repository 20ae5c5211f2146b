/**
 * NoCloud seed disk for own-kernel and full VMs (images that run cloud-init, as Zero-OS VM images
 * do): a small FAT image labelled CIDATA with meta-data, user-data (hostname, root's SSH keys, env
 * in /etc/environment) and network-config v2 (static IP on the NIC matched by MAC, default route,
 * DNS). Built with mkfs.vfat + mcopy, no mount needed. The files are JSON, which is valid YAML.
 *
 * @example
 * ```ts
 * await writeCloudInitSeed("/var/lib/zos/vms/vm1/seed.img", spec);
 * ```
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHost } from "./host-command.ts";
import { removeDisk } from "./disk.ts";
import type { VmSpec } from "./vm-spec.ts";
import { authorizedKeys } from "./guest-config.ts";
import { vmNics } from "./vm-nics.ts";

/** virtio-blk serial of the seed disk. */
export const SEED_DISK_SERIAL = "cidata";

export interface CloudInitFiles {
  "meta-data": string;
  "user-data": string;
  "network-config"?: string;
}

/** The seed's file contents for a spec. */
export function renderCloudInit(spec: VmSpec): CloudInitFiles {
  const keys = authorizedKeys(spec);
  const userData = {
    hostname: spec.hostname,
    fqdn: spec.hostname,
    disable_root: false,
    ssh_pwauth: false,
    users: ["default", { name: "root", lock_passwd: true, ssh_authorized_keys: keys }],
    ...(Object.keys(spec.env).length > 0
      ? { write_files: [{ path: "/etc/environment", append: true, content: Object.entries(spec.env).map(([k, v]) => `${k}="${v.replace(/["\\]/g, "\\$&")}"\n`).join("") }] }
      : {}),
  };
  const files: CloudInitFiles = {
    "meta-data": JSON.stringify({ "instance-id": spec.id, "local-hostname": spec.hostname }, null, 2) + "\n",
    "user-data": "#cloud-config\n" + JSON.stringify(userData, null, 2) + "\n",
  };
  const nics = vmNics(spec);
  if (nics.length > 0) {
    const gatewayNic = nics.find((n) => n.net.gateway);
    const gateway6Nic = nics.find((n) => n.net.gateway6);
    const ethernets = Object.fromEntries(nics.map((n) => {
      const routes = [
        ...(n === gatewayNic ? [{ to: "0.0.0.0/0", via: n.net.gateway }] : []),
        ...(n === gateway6Nic ? [{ to: "::/0", via: n.net.gateway6 }] : []),
        ...n.net.routes.map((r) => ({ to: r.dst, via: r.via })),
      ];
      return [`eth${n.index}`, {
      match: { macaddress: n.mac },
      "set-name": `eth${n.index}`,
      addresses: [...(n.net.ip ? [n.net.ip] : []), ...(n.net.ip6 ? [n.net.ip6] : [])],
      ...(routes.length ? { routes } : {}),
      ...(n.net.dns.length > 0 ? { nameservers: { addresses: n.net.dns } } : {}),
      }];
    }));
    files["network-config"] = JSON.stringify({ version: 2, ethernets }, null, 2) + "\n";
  }
  return files;
}

/** Writes the seed image (replacing an old one). */
export async function writeCloudInitSeed(path: string, spec: VmSpec): Promise<void> {
  const files = renderCloudInit(spec);
  const dir = await mkdtemp(join(tmpdir(), "zseed-"));
  try {
    const names = Object.keys(files) as (keyof CloudInitFiles)[];
    for (const n of names) await writeFile(join(dir, n), files[n] ?? "");
    await removeDisk(path);
    await runHost("mkfs.vfat", ["-n", "CIDATA", "-C", path, "1024"]);
    await runHost("mcopy", ["-i", path, ...names.map((n) => join(dir, n)), "::"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
