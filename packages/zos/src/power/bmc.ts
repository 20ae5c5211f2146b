/**
 * The local grid's BMC — SIMULATED hardware, labelled so. On a real server the NIC stays powered
 * in S5 and switches the machine on when a Wake-on-LAN magic packet naming its MAC arrives, and
 * ACPI off cuts the power. Here a per-node process plays both parts for one node host: it runs in
 * the node host's network namespace (the namespace and its `eth0` are the machine's NIC, which stays
 * armed), listens on UDP/9 for real magic packets from the underlay, and "powers the machine on" by
 * starting the node's zosd; when zosd exits (POWER_OFF_EXIT_CODE after `zos.system.power_off`, or
 * any other way: the machine halted) the machine is off and nothing of the node runs until the next
 * magic packet. The same packets and the same chain transitions as on hardware.
 *
 * SIGKILL-safe: the zosd pid is kept in `<stateDir>/zosd.pid`; a restarted BMC adopts a zosd that
 * still runs instead of starting a second one.
 *
 * @example
 * ```ts
 * const bmc = await startBmc({ nic: "eth0", stateDir, command: [process.execPath, [zosd, "--config", cfg]], on: true });
 * bmc.state;       // "on" | "off"
 * await bmc.stop(); // SIGTERM to zosd, socket closed
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { normalizeMac, parseMagicPacket, WOL_PORT } from "@zgrid/types";
import { BaseError } from "@zgrid/types";
import { POWER_OFF_EXIT_CODE, macOf } from "./power-switch.ts";

export class BmcError extends BaseError {
  override readonly code: string = "BMC";
}

export type BmcEvent =
  | { bmc: "listening"; mac: string; port: number }
  | { bmc: "wake"; from: string; mac: string }
  | { bmc: "on"; pid: number; adopted: boolean }
  | { bmc: "off"; code: number | null; poweredOff: boolean };

export interface BmcOptions {
  /** The NIC whose MAC magic packets must name (in the BMC's network namespace). */
  nic: string;
  stateDir: string;
  /** The node's daemon: what "power on" starts. */
  command: [string, string[]];
  /** Start powered on (a machine plugged in with "power on after AC loss"). */
  on: boolean;
  /**
   * zosd exiting any other way than a power-off is a crash the node's init restarts (the machine
   * stays on): start it again after a back-off (0.5 s doubling to 10 s; reset after a minute up).
   * Default false: any exit is the machine halting.
   */
  restart?: boolean;
  port?: number;
  /** Every event (default: a JSON line on stdout). zosd's own stdout lines go to `output`. */
  onEvent?: (e: BmcEvent) => void;
  output?: (line: string) => void;
}

export interface Bmc {
  readonly mac: string;
  /** The UDP port it listens on (the bound one when `port: 0` asked the kernel for any). */
  readonly port: number;
  readonly state: "on" | "off";
  stop(): Promise<void>;
}

export async function startBmc(o: BmcOptions): Promise<Bmc> {
  const raw = macOf(o.nic);
  if (!raw) throw new BmcError(`no NIC '${o.nic}' in this network namespace`, { hint: "run the BMC inside the node host (nsenter --net=/run/netns/zh-<name>)" });
  const mac = normalizeMac(raw);
  const emit = o.onEvent ?? ((e: BmcEvent) => process.stdout.write(`${JSON.stringify(e)}\n`));
  const output = o.output ?? ((l: string) => process.stdout.write(`${l}\n`));
  const pidFile = join(o.stateDir, "zosd.pid");
  let child: ChildProcess | undefined;
  let adoptedPid: number | undefined;
  let poll: NodeJS.Timeout | undefined;
  let stopping = false;

  let failures = 0, startedAt = 0;
  const off = (code: number | null) => {
    child = undefined; adoptedPid = undefined;
    if (poll) clearInterval(poll);
    rmSync(pidFile, { force: true });
    const poweredOff = code === POWER_OFF_EXIT_CODE;
    emit({ bmc: "off", code, poweredOff });
    if (o.restart && !poweredOff && !stopping) {
      failures = Date.now() - startedAt > 60_000 ? 0 : failures + 1;
      setTimeout(() => { if (!stopping && !child && adoptedPid === undefined) powerOn(); }, Math.min(500 * 2 ** failures, 10_000)).unref();
    }
  };
  const powerOn = () => {
    startedAt = Date.now();
    // The machine's power-on instant, as a real one's kernel would know it (the node's power ledger).
    const c = spawn(o.command[0], o.command[1], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ZGRID_POWER_ON_AT: String(Math.floor(Date.now() / 1000)) } });
    child = c;
    writeFileSync(pidFile, `${c.pid}\n`);
    createInterface({ input: c.stdout! }).on("line", output);
    c.once("exit", (code) => { if (child === c) off(code); });
    emit({ bmc: "on", pid: c.pid!, adopted: false });
  };

  const previous = readPid(pidFile);
  if (previous !== undefined && alive(previous)) {
    adoptedPid = previous;
    poll = setInterval(() => { if (!alive(previous)) off(null); }, 500);
    emit({ bmc: "on", pid: previous, adopted: true });
  } else if (o.on) powerOn();

  const socket: Socket = createSocket({ type: "udp4", reuseAddr: true });
  socket.on("message", (msg, rinfo) => {
    if (stopping || parseMagicPacket(msg) !== mac) return;
    emit({ bmc: "wake", from: rinfo.address, mac });
    if (!child && adoptedPid === undefined) powerOn();
  });
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(o.port ?? WOL_PORT, "0.0.0.0", () => { socket.setBroadcast(true); resolve(); });
  });
  const port = socket.address().port;
  emit({ bmc: "listening", mac, port });

  return {
    mac,
    port,
    get state() { return child || adoptedPid !== undefined ? "on" : "off"; },
    async stop() {
      stopping = true;
      socket.close();
      const pid = child?.pid ?? adoptedPid;
      if (pid !== undefined) {
        try { process.kill(pid, "SIGTERM"); } catch { /* gone */ }
        const end = Date.now() + 10_000;
        while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
      }
      if (poll) clearInterval(poll);
    },
  };
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
}
