/**
 * Test fixture: a small signed release flist on a real hub (the shape the release builder of
 * @zgrid/upgrader produces: an entry plus payload the entry does not read, so a lazy boot fetches
 * a fraction of it), and a way to tamper with one of its blocks on the hub.
 *
 * @example
 * ```ts
 * const r = await startReleaseHub({ dir, host: "10.9.0.1", key, payloadBytes: 16 << 20 });
 * r.releaseName; // "0x…/zos-test.fl" for zgrid.release=
 * await r.close();
 * ```
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlistReader, TAGS, packFlist, pushFlist, signFlist, startHub, type Hub } from "@zgrid/flist";
import type { TwinKey } from "@zgrid/types";

/** The test release's entry: proves it ran from the verified mount, lists the cache disk, stops. */
export const TEST_ENTRY = `#!/bin/sh
echo "ZGRID-RELEASE-ENTRY account=$ZGRID_NODE_ACCOUNT farm=$ZGRID_FARM release=$ZGRID_RELEASE_ROOT"
echo "ZGRID-DISK-LISTING-BEGIN"
(cd "$ZGRID_DATA_DIR" && find . | sort)
echo "ZGRID-DISK-LISTING-END"
grep -q " $ZGRID_DATA_DIR " /proc/mounts && echo "ZGRID-DISK-DEVICE $(grep " $ZGRID_DATA_DIR " /proc/mounts | cut -d' ' -f1)"
exit 0
`;

export interface ReleaseHub {
  hub: Hub;
  url: string;
  releaseName: string;
  /** Sum of the release's file sizes (what a full download fetches, before compression). */
  totalBytes: number;
  /** Block ids of a path in the release (first block first). */
  blocksOf(path: string): string[];
  /** Flips a byte of a block as stored on the hub. */
  tamperBlock(id: string): void;
  close(): Promise<void>;
}

export async function startReleaseHub(o: { dir: string; host: string; port?: number; key: TwinKey; payloadBytes: number; entry?: string; name?: string }): Promise<ReleaseHub> {
  const rootDir = join(o.dir, "release-root");
  mkdirSync(join(rootDir, "bin"), { recursive: true });
  writeFileSync(join(rootDir, "entry.sh"), o.entry ?? TEST_ENTRY);
  chmodSync(join(rootDir, "entry.sh"), 0o755);
  // stands in for the bulk of a release (QEMU, node_modules): present, signed, never read at boot
  writeFileSync(join(rootDir, "bin", "payload.bin"), randomBytes(o.payloadBytes));
  const fl = join(o.dir, `${o.name ?? "zos-test"}.fl`);
  const blocks = `dir://${join(o.dir, "blocks")}`;
  await packFlist({ source: rootDir, output: fl, stores: [blocks], tags: { [TAGS.entrypoint]: JSON.stringify({ name: "/entry.sh", args: [], env: {}, dir: "/" }) } });
  await signFlist(fl, o.key);
  const hubDir = join(o.dir, "hub");
  const hub = await startHub({ dataDir: hubDir, port: o.port ?? 0, host: o.host, blockAuth: "open" });
  await pushFlist({ hub: hub.url, flist: fl, stores: [blocks], key: o.key });
  const reader = FlistReader.open(fl);
  const ids = new Map<string, string[]>();
  try {
    for (const path of ["/entry.sh", "/bin/payload.bin"]) {
      let ino = reader.root().ino;
      for (const name of path.split("/").filter(Boolean)) ino = reader.lookup(ino, Buffer.from(name))!.ino;
      ids.set(path, reader.blocks(ino).map((b) => Buffer.from(b.id).toString("hex")));
    }
  } finally {
    reader.close();
  }
  return {
    hub, url: hub.url, releaseName: `${o.key.address}/${o.name ?? "zos-test"}.fl`, totalBytes: o.payloadBytes + (o.entry ?? TEST_ENTRY).length,
    blocksOf: (path) => ids.get(path) ?? [],
    tamperBlock: (id) => {
      const flat = join(hubDir, "blocks", id);
      const file = existsSync(flat) ? flat : join(hubDir, "blocks", id.slice(0, 2), id);
      const b = readFileSync(file);
      b[b.length >> 1] = b[b.length >> 1]! ^ 0xff;
      writeFileSync(file, b);
    },
    close: () => hub.close(),
  };
}

export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}
