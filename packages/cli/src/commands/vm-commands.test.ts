import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import * as client from "@zgrid/client";
import { createOutput } from "../output.ts";
import { registerVmCommands, vmDeployModel } from "./vm-commands.ts";

/** The options commander gives `vm deploy`'s action for these arguments (the action itself is not run). */
function deployOptions(...args: string[]): Record<string, string | string[] | boolean | undefined> {
  const program = new Command("zgrid").exitOverride();
  registerVmCommands(program, () => ({ opts: { json: true, dataDir: "/nonexistent" }, io: createOutput({ json: true }) }));
  const deploy = program.commands.find((c) => c.name() === "vm")!.commands.find((c) => c.name() === "deploy")!;
  deploy.action(() => undefined);
  program.parse(["node", "zgrid", "vm", "deploy", "web", ...args]);
  return deploy.opts();
}

test("vm deploy --public-ip / --public-ip6: a v4, a v6 or both, as the ip workload the node reads", () => {
  const url = "http://hub/flists/0xabc/busybox.fl";
  const ipOf = (...flags: string[]) => {
    const model = client.vmModelSchema.parse(vmDeployModel(client, "web", url, deployOptions(...flags)));
    const workloads = client.vmWorkloads(model, "10.20.2.2") as Array<{ name: string; type: string; data: { v4?: boolean; v6?: boolean; network?: { public_ip?: string } } }>;
    const ip = workloads.find((w) => w.type === "ip");
    const vm = workloads.find((w) => w.type === "zmachine")!;
    assert.equal(vm.data.network?.public_ip, ip?.name, "the zmachine names its ip workload");
    return { public_ip: model.public_ip, public_ip6: model.public_ip6, data: ip?.data };
  };
  assert.deepEqual(ipOf(), { public_ip: false, public_ip6: false, data: undefined });
  // v4 alone keeps the exact workload it always had (same deployment hash as before v6 existed).
  assert.deepEqual(ipOf("--public-ip"), { public_ip: true, public_ip6: false, data: { v4: true } });
  assert.deepEqual(ipOf("--public-ip6"), { public_ip: false, public_ip6: true, data: { v4: false, v6: true } });
  assert.deepEqual(ipOf("--public-ip", "--public-ip6"), { public_ip: true, public_ip6: true, data: { v4: true, v6: true } });
  assert.equal(client.hasPublicIp({ public_ip: false, public_ip6: true }), true);
});

test("vm deploy --spread asks the node finder for the emptiest node; without it the SDK packs", () => {
  const url = "http://hub/flists/0xabc/busybox.fl";
  assert.equal(client.vmModelSchema.parse(vmDeployModel(client, "web", url, deployOptions("--spread"))).placement, "spread");
  assert.equal(client.vmModelSchema.parse(vmDeployModel(client, "web", url, deployOptions())).placement, undefined);
});

test("vm get shows the public IPv6 next to the IPv4", async () => {
  const { describeVm } = await import("./vm-commands.ts");
  const info = { name: "web", state: "ok", message: "", nodeId: 2, contractId: 7, network: "default", ip: "10.20.2.2", publicIp: "185.1.0.10/24", publicIp6: "fd00:1::5/64", cpu: 1, memoryMiB: 256, flist: "f", consoleLog: "", namespace: "ns", disks: [], hasPublicIp: true, reach: "" } as unknown as client.VmInfo;
  assert.match(describeVm(info), /public ip 185\.1\.0\.10\/24, public ipv6 fd00:1::5\/64/);
});
