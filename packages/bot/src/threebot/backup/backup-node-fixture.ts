/**
 * Test support for disk backups: a node (its bus serving the real snapshot routes over a real
 * engine store), the owner's and a stranger's buses, a real hub, and a sparse disk of the owner.
 *
 * @example
 * ```ts
 * const n = await backupTestNode(t);
 * await backupNodeDisk({ node: nodeClient(n.owner, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.ownerKey });
 * ```
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestGrid, testTwinKey } from "@zgrid/bus/testing";
import { startHub } from "@zgrid/flist";
import { NODE_ROUTES, parseDeployment, parseNodeRequest, workloadId } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { Hypervisor, ProvisionEngine, diskSnapshots, diskWrites, nodePaths, openDeploymentStore } from "@zgrid/zos";

export async function backupTestNode(t: { after(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), "bot-backup-"));
  const grid = new TestGrid();
  const store = openDeploymentStore(join(dir, "zos.db"));
  const hub = await startHub({ dataDir: join(dir, "hub") });
  const paths = nodePaths(join(dir, "node"));
  const engine = new ProvisionEngine({ store } as unknown as ConstructorParameters<typeof ProvisionEngine>[0]);
  const hypervisor = new Hypervisor({ stateDir: join(dir, "vms"), accel: "tcg" });
  const snaps = diskSnapshots({ engine, hypervisor, paths });
  const writes = diskWrites({ engine, hypervisor, paths });
  t.after(async () => { await snaps.closeAll(); await grid.close(); await hub.close(); store.close(); rmSync(dir, { recursive: true, force: true }); });
  const [node, owner, stranger] = await grid.buses(3);
  const handlers = { diskSnapshotOpen: snaps.open, diskSnapshotRead: snaps.read, diskSnapshotClose: snaps.close, diskWrite: writes.write } as Record<string, (twin: number, r: unknown) => Promise<unknown>>;
  for (const key of ["diskSnapshotOpen", "diskSnapshotRead", "diskSnapshotClose", "diskWrite"] as const) {
    // as zosd's registerRoutes: the request checked, the verified caller passed on
    node!.handle(NODE_ROUTES[key].name, (p: unknown, ctx) => handlers[key]!(ctx.twinId, parseNodeRequest(key, p)));
  }
  store.put({ ...parseDeployment(sampleDeploymentJson({ twinId: owner!.twinId })), contract_id: 12 });
  const size = 6 * 1024 * 1024 + 4096;
  const disk = paths.disk(workloadId(owner!.twinId, 12, "data"));
  mkdirSync(join(paths.dataDir, "disks"), { recursive: true });
  const fh = await open(disk, "w");
  await fh.truncate(size);
  const content = Buffer.alloc(700_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7919) & 0xff;
  await fh.write(content, 0, content.length, 1_000_000);
  await fh.write(content, 0, 4096, size - 4096);
  await fh.close();
  return { dir, hub, snaps, node: node!, owner: owner!, stranger: stranger!, ownerKey: testTwinKey(owner!.twinId), strangerKey: testTwinKey(stranger!.twinId), disk, size, content: () => readFileSync(disk) };
}
