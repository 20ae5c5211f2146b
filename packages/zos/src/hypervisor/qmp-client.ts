/**
 * Minimal QMP (QEMU Machine Protocol) client over QEMU's unix socket. One connection per call:
 * the daemon holds no long-lived state, so a new daemon process can drive (adopt) a running VM.
 *
 * @example
 * ```ts
 * const status = await qmpCommand<{ status: string }>("/var/zos/vms/vm1/qmp.sock", "query-status");
 * await qmpCommand(sock, "stop");      // pause
 * ```
 */
import { createConnection } from "node:net";
import { QmpError } from "./errors.ts";

interface QmpMessage {
  QMP?: unknown;
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
  id?: unknown;
}

export async function qmpCommand<T = unknown>(
  socketPath: string,
  command: string,
  args?: Record<string, unknown>,
  opts: { timeoutMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise<T>((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = "";
    let stage: "greeting" | "caps" | "cmd" | "done" = "greeting";
    const finish = (err: Error | null, value?: unknown): void => {
      if (stage === "done") return;
      stage = "done";
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new QmpError(`QMP ${command} timed out`, { details: { socketPath, command, timeoutMs } })),
      timeoutMs,
    );
    const send = (msg: object): void => {
      sock.write(JSON.stringify(msg) + "\n");
    };
    sock.setEncoding("utf8");
    sock.on("error", (e) => finish(new QmpError(`QMP socket error: ${e.message}`, { details: { socketPath, command }, cause: e })));
    sock.on("close", () => finish(new QmpError(`QMP socket closed before ${command} answered`, { details: { socketPath, command } })));
    sock.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let msg: QmpMessage;
        try {
          msg = JSON.parse(line) as QmpMessage;
        } catch {
          continue;
        }
        if (msg.event) continue;
        if (stage === "greeting" && msg.QMP) {
          stage = "caps";
          send({ execute: "qmp_capabilities" });
        } else if (stage === "caps") {
          if (msg.error) return finish(new QmpError(`QMP negotiation failed: ${msg.error.desc}`, { details: { socketPath } }));
          stage = "cmd";
          send({ execute: command, ...(args ? { arguments: args } : {}), id: 1 });
        } else if (stage === "cmd" && msg.id === 1) {
          if (msg.error) {
            return finish(new QmpError(`QMP ${command}: ${msg.error.desc}`, { details: { socketPath, command, class: msg.error.class } }));
          }
          finish(null, msg.return);
        }
      }
    });
  });
}
