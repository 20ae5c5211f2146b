/**
 * Publishing an extra flist on the local grid (debian, redis): a root directory packed, signed
 * by the local farm's twin, pushed to the local hub and recorded under its name in `setup.json`
 * and `grid.json` (`flists.<name>`, so `zgrid vm deploy --flist <name>` finds it). Also: whether
 * a recorded flist is still served (a cached build is reused).
 *
 * @example
 * ```ts
 * const url = await publishLocalFlist({ dataDir, name: "redis", root: "/tmp/x/root", work: "/tmp/x" });
 * await servedFlist(readLocalGrid(dataDir).flists.redis); // url, or undefined
 * ```
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localGridInfoPath, readLocalGrid } from "@zgrid/client";
import { TAGS, packFlist, pushFlist, signFlist } from "@zgrid/flist";
import { twinKeyFromPrivateKey } from "@zgrid/types";

/** The URL when the hub still serves it, else undefined. */
export async function servedFlist(url: string | undefined): Promise<string | undefined> {
  if (!url) return undefined;
  const res = await fetch(url).catch(() => undefined);
  await res?.body?.cancel();
  return res?.ok ? url : undefined;
}

/** Packs `root` (entrypoint /start.sh) into `<work>/<name>.fl`, signs, pushes, records; the hub URL. */
export async function publishLocalFlist(o: { dataDir: string; name: string; root: string; work: string; tags?: Record<string, string> }): Promise<string> {
  const info = readLocalGrid(o.dataDir);
  const fl = join(o.work, `${o.name}.fl`);
  const blocks = `dir://${join(o.work, "blocks")}`;
  await packFlist({ source: o.root, output: fl, stores: [blocks], tags: { [TAGS.entrypoint]: JSON.stringify({ name: "/start.sh", args: [], env: {}, dir: "/" }), ...o.tags } });
  await signFlist(fl, twinKeyFromPrivateKey(info.farmerKey));
  const pushed = await pushFlist({ hub: info.hubUrl, flist: fl, stores: [blocks], key: twinKeyFromPrivateKey(info.farmerKey) });
  for (const file of [join(o.dataDir, "setup.json"), localGridInfoPath(o.dataDir)]) {
    const j = JSON.parse(readFileSync(file, "utf8")) as { flists: Record<string, string> };
    j.flists[o.name] = pushed.url;
    writeFileSync(file, JSON.stringify(j, null, 2));
  }
  return pushed.url;
}
