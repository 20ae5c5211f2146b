import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BusHandler, HandlerContext } from "@zgrid/bus";
import { NODE_ROUTE_NAMES, ValidationError, ZERO_CAPACITY } from "@zgrid/types";
import type { ProvisionEngine } from "../engine/provision-engine.ts";
import { NodeDrainingError } from "../power/power-off.ts";
import { registerRoutes, type RouteDeps } from "./register-routes.ts";

/** The two bus methods routes use, recording what is registered. */
function recordingBus() {
  const handlers = new Map<string, BusHandler>();
  return {
    handlers,
    handle(command: string, h: BusHandler) { handlers.set(command, h); },
    unhandle(command: string) { handlers.delete(command); },
  };
}

const caller = (twinId: number) => ({ twinId, account: "0x0", peerId: "p" }) as unknown as HandlerContext;

function deps(calls: string[]): RouteDeps {
  // The engine's own behaviour is tested with the engine; here only what reaches it matters.
  const engine = {
    get: (twin: number, id: number) => { calls.push(`get ${twin} ${id}`); return { contract_id: id }; },
    list: (twin: number) => { calls.push(`list ${twin}`); return []; },
    changes: (twin: number, id: number) => { calls.push(`changes ${twin} ${id}`); return []; },
    deploy: async (twin: number) => { calls.push(`deploy ${twin}`); return { contract_id: 1, accepted: true }; },
    update: async (twin: number) => { calls.push(`update ${twin}`); return { contract_id: 1, accepted: true }; },
  } as unknown as ProvisionEngine;
  const cap = { ...ZERO_CAPACITY };
  return {
    engine, version: "9.9.9", features: ["zmachine"],
    statistics: () => ({ total: cap, used: cap, system: cap, free: cap, users: { deployments: 0, workloads: 0, movable_deployments: 0 } }),
    privateIps: (twin, network) => { calls.push(`ips ${twin} ${network}`); return ["10.1.2.3"]; },
    wireguardPorts: () => [3000],
    vms: {
      logs: async (twin, r) => { calls.push(`logs ${twin} ${r.contract_id} ${r.name}`); return { log: "", offset: 0, size: 0, state: "stopped", reason: "" }; },
      action: async (twin, r) => { calls.push(`action ${twin} ${r.name} ${r.action}`); return { log: "", offset: 0, size: 0, state: "running", reason: "" }; },
      exec: async (twin, r) => { calls.push(`exec ${twin} ${r.name} ${r.argv.join(" ")} ${r.timeout_sec}`); return { exit_code: 0, signal: null, timed_out: false, truncated: false, stdout: "", stderr: "" }; },
      execOpen: async (twin, r) => { calls.push(`exec-open ${twin} ${r.name} ${r.argv.join(" ")} tty=${r.tty} ${r.rows}x${r.cols} ${r.timeout_sec}`); return { session: "0".repeat(32) }; },
      execIo: async (twin, r) => { calls.push(`exec-io ${twin} ${r.session.slice(0, 4)} ${r.wait_ms}`); return { output: [], stdin_taken: 0 }; },
    },
    powerDurations: () => ({ node_id: 1, since: 1, on_seconds: 60, off_seconds: 0, reserved_core_seconds: 0, wakes: 0, power_offs: 0 }),
    probes: {
      probe: async (twin, r) => { calls.push(`probe ${twin} ${r.name} ${r.type} ${r.port} ${r.path} ${r.timeout_ms}`); return { ok: true, ms: 1, detail: "" }; },
    },
    disks: {
      open: async (twin, r) => { calls.push(`snapshot-open ${twin} ${r.contract_id} ${r.name}`); return { snapshot: "b".repeat(32), size: 1, taken_at: 1, paused_ms: 0 }; },
      read: async (twin, r) => { calls.push(`snapshot-read ${twin} ${r.offset} ${r.length}`); return { offset: r.offset, length: 0, zero: true, data: "" }; },
      close: async (twin) => { calls.push(`snapshot-close ${twin}`); return { closed: true }; },
    },
    diskWrites: {
      write: async (twin, r) => { calls.push(`disk-write ${twin} ${r.name} ${r.offset} ${r.reset}`); return { written: 0, size: 1 }; },
    },
    power: {
      powerOff: async (twin, r) => { calls.push(`power-off ${twin} ${r.reason}`); return { node_id: 1, state: "standby", switch: "bmc" }; },
      assertAccepting: () => { if (calls.includes("draining")) throw new NodeDrainingError("node 1 is powering off"); },
    },
  };
}

describe("node routes", () => {
  test("every route of the table is registered, and unregistering removes them all", () => {
    const bus = recordingBus();
    const unregister = registerRoutes(bus, deps([]));
    assert.deepEqual([...bus.handlers.keys()].sort(), [...NODE_ROUTE_NAMES].sort());
    assert.equal(bus.handlers.size, 22);
    unregister();
    assert.equal(bus.handlers.size, 0);
  });

  test("handlers get the verified caller and checked requests", async () => {
    const bus = recordingBus();
    const calls: string[] = [];
    registerRoutes(bus, deps(calls));
    const call = (name: string, payload: unknown, twin = 7) => Promise.resolve(bus.handlers.get(name)!(payload, caller(twin)));
    assert.deepEqual(await call("zos.deployment.get", { contract_id: 12 }), { contract_id: 12 });
    await call("zos.deployment.list", null, 8);
    await call("zos.deployment.changes", { contract_id: 3 });
    assert.deepEqual(await call("zos.network.list_private_ips", { network_name: "net" }), ["10.1.2.3"]);
    assert.deepEqual(await call("zos.system.version", {}), { zos: "9.9.9", zinit: "n/a" });
    await call("zos.zmachine.logs", { contract_id: 4, name: "web" });
    await call("zos.zmachine.action", { contract_id: 4, name: "web", action: "restart" }, 9);
    await call("zos.zmachine.exec", { contract_id: 4, name: "web", argv: ["ls", "/"] }, 9);
    await call("zos.zmachine.probe", { contract_id: 4, name: "web", type: "http", port: 80 }, 9);
    await call("zos.zmachine.exec_open", { contract_id: 4, name: "web", argv: ["sh"], tty: true }, 9);
    await call("zos.zmachine.exec_io", { session: "a".repeat(32) }, 9);
    await assert.rejects(Promise.resolve().then(() => call("zos.zmachine.probe", { contract_id: 4, name: "web", type: "udp", port: 80 })), ValidationError);
    await assert.rejects(Promise.resolve().then(() => call("zos.zmachine.probe", { contract_id: 4, name: "web", type: "tcp", port: 80, timeout_ms: 60_000 })), ValidationError);
    assert.deepEqual(await call("zos.system.power_off", null, 1), { node_id: 1, state: "standby", switch: "bmc" });
    await call("zos.zmount.snapshot_open", { contract_id: 4, name: "data" }, 9);
    await call("zos.zmount.snapshot_read", { snapshot: "b".repeat(32), offset: 5, length: 524_288 }, 9);
    await call("zos.zmount.snapshot_close", { snapshot: "b".repeat(32) }, 9);
    await call("zos.zmount.write", { contract_id: 4, name: "data", offset: 0, data: "" }, 9);
    assert.deepEqual(calls.splice(-4), ["snapshot-open 9 4 data", "snapshot-read 9 5 524288", "snapshot-close 9", "disk-write 9 data 0 false"]);
    assert.deepEqual(calls, ["get 7 12", "list 8", "changes 7 3", "ips 7 net", "logs 7 4 web", "action 9 web restart", "exec 9 web ls / 60", "probe 9 web http 80 / 2000", "exec-open 9 web sh tty=true 24x80 3600", "exec-io 9 aaaa 5000", "power-off 1 "]);
  });

  test("while the node drains for a power-off, deploy and update are refused before the engine", async () => {
    const bus = recordingBus();
    const calls: string[] = ["draining"];
    registerRoutes(bus, deps(calls));
    for (const name of ["zos.deployment.deploy", "zos.deployment.update"]) {
      await assert.rejects(Promise.resolve().then(() => bus.handlers.get(name)!({}, caller(7))), NodeDrainingError);
    }
    assert.deepEqual(calls, ["draining"]);
  });

  test("a bad request is refused with a ValidationError before it reaches the engine", async () => {
    const bus = recordingBus();
    const calls: string[] = [];
    registerRoutes(bus, deps(calls));
    for (const [name, payload, field] of [
      ["zos.deployment.get", { contract_id: -1 }, "contract_id"],
      ["zos.deployment.get", null, "contract_id"],
      ["zos.deployment.changes", { contract_id: "1" }, "contract_id"],
      ["zos.network.list_private_ips", { network_name: 5 }, "network_name"],
      ["zos.zmachine.logs", { contract_id: 1, name: "../x" }, "name"],
      ["zos.zmachine.logs", { contract_id: 1, name: "web", max_bytes: 1e9 }, "max_bytes"],
      ["zos.zmachine.action", { contract_id: 1, name: "web", action: "explode" }, "action"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: [] }, "argv"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: Array(300).fill("x") }, "argv"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["a\u0000b"] }, "argv.0"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["x".repeat(9000)] }, "argv.0"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["ls"], timeout_sec: 3600 }, "timeout_sec"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["ls"], env: { "A-B": "1" } }, "env.A-B"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["cat"], stdin: "QUFB".repeat(12_000) }, "stdin"],
      ["zos.zmachine.exec", { contract_id: 1, name: "web", argv: ["cat"], stdin: "not base64!" }, "stdin"],
      ["zos.zmachine.exec_open", { contract_id: 1, name: "web", argv: [] }, "argv"],
      ["zos.zmachine.exec_open", { contract_id: 1, name: "web", argv: ["sh"], rows: 0 }, "rows"],
      ["zos.zmachine.exec_open", { contract_id: 1, name: "web", argv: ["sh"], cols: 100_000 }, "cols"],
      ["zos.zmachine.exec_open", { contract_id: 1, name: "web", argv: ["sh"], timeout_sec: 86_400 }, "timeout_sec"],
      ["zos.zmachine.exec_open", { contract_id: 1, name: "web", argv: ["sh"], tty: "yes" }, "tty"],
      ["zos.zmachine.exec_io", { session: "../../etc" }, "session"],
      ["zos.zmachine.exec_io", { session: "a".repeat(32), stdin: "QUFB".repeat(12_000) }, "stdin"],
      ["zos.zmachine.exec_io", { session: "a".repeat(32), stdin: "%%%" }, "stdin"],
      ["zos.zmachine.exec_io", { session: "a".repeat(32), signal: 99 }, "signal"],
      ["zos.zmachine.exec_io", { session: "a".repeat(32), wait_ms: 3_600_000 }, "wait_ms"],
      ["zos.zmachine.exec_io", { session: "a".repeat(32), resize: { rows: -1, cols: 5 } }, "resize.rows"],
      ["zos.zmount.snapshot_open", { contract_id: 1, name: "../../etc/shadow" }, "name"],
      ["zos.zmount.snapshot_open", { contract_id: 0, name: "data" }, "contract_id"],
      ["zos.zmount.snapshot_read", { snapshot: "../x", offset: 0, length: 1 }, "snapshot"],
      ["zos.zmount.snapshot_read", { snapshot: "b".repeat(32), offset: -1, length: 1 }, "offset"],
      ["zos.zmount.snapshot_read", { snapshot: "b".repeat(32), offset: 0, length: 0 }, "length"],
      ["zos.zmount.snapshot_read", { snapshot: "b".repeat(32), offset: 0, length: 2 ** 30 }, "length"],
      ["zos.zmount.snapshot_read", { snapshot: "b".repeat(32), offset: 2 ** 60, length: 1 }, "offset"],
      ["zos.zmount.snapshot_close", { snapshot: 5 }, "snapshot"],
      ["zos.zmount.write", { contract_id: 1, name: "../data", offset: 0, data: "" }, "name"],
      ["zos.zmount.write", { contract_id: 1, name: "data", offset: -5, data: "" }, "offset"],
      ["zos.zmount.write", { contract_id: 1, name: "data", offset: 0, data: "QUFB".repeat(200_000) }, "data"],
      ["zos.zmount.write", { contract_id: 1, name: "data", offset: 0, data: "not base64!" }, "data"],
    ] as const) {
      await assert.rejects(Promise.resolve().then(() => bus.handlers.get(name)!(payload, caller(7))), (e: unknown) => e instanceof ValidationError && e.field === field);
    }
    assert.deepEqual(calls, []);
  });
});
