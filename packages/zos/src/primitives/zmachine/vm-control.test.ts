// vmExec's authorization and refusals without a VM: only the deployment's twin reaches the VM
// (the real engine's `get` over a real deployment store); a VM that never booted, and a stopped one,
// are refused with what to do. The exec itself runs in guest-agent.test.ts (real QEMU).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseDeployment, workloadId } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { DeploymentNotFoundError } from "../../engine/engine-errors.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import { Hypervisor } from "../../hypervisor/hypervisor.ts";
import { VmNotHereError, VmNotRunningError, vmControl } from "./vm-control.ts";

test("exec: another twin is refused, a VM without state or not running is refused with a hint", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zos-vmctl-"));
  const store = openDeploymentStore(join(dir, "zos.db"));
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const d = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };
  store.put(d);
  const vm = d.workloads.find((w) => w.type === "zmachine")!;
  const engine = new ProvisionEngine({ store } as unknown as ConstructorParameters<typeof ProvisionEngine>[0]);
  const hypervisor = new Hypervisor({ stateDir: join(dir, "vms"), accel: "tcg" });
  const vms = vmControl({ engine, hypervisor });
  const req = { contract_id: 12, name: vm.name, argv: ["id"], timeout_sec: 5 };

  await assert.rejects(vms.exec(8, req), (e: unknown) => e instanceof DeploymentNotFoundError && /of your twin/.test(e.message));
  await assert.rejects(vms.exec(7, { ...req, name: "nope" }), VmNotHereError);
  await assert.rejects(vms.exec(7, req), (e: unknown) => e instanceof VmNotHereError && /never booted/.test(e.message));

  // a VM with saved state but no QEMU: refused as not running, with the start command
  const id = workloadId(7, 12, vm.name);
  await mkdir(join(dir, "vms", id), { recursive: true });
  await writeFile(join(dir, "vms", id, "spec.json"), JSON.stringify({ id, rootShare: "/x", entrypoint: ["true"] }));
  await assert.rejects(vms.exec(7, req), (e: unknown) => e instanceof VmNotRunningError && /is stopped/.test(e.message) && /zgrid vm start/.test(String((e as VmNotRunningError).hint)));

  // a streamed session is authorized the same way, before anything reaches the VM
  const open = { contract_id: 12, name: vm.name, argv: ["sh"], tty: true };
  await assert.rejects(vms.execOpen(8, open), (e: unknown) => e instanceof DeploymentNotFoundError && /of your twin/.test(e.message));
  await assert.rejects(vms.execOpen(7, { ...open, name: "nope" }), VmNotHereError);
  await assert.rejects(vms.execOpen(7, open), VmNotRunningError);
  assert.equal(vms.sessions.count(), 0, "no session was counted for a refused open");
});
