/**
 * Sends Wake-on-LAN magic packets (`magicPacket` of @zgrid/types) as UDP broadcasts on the
 * underlay: what a farmer's machine does to wake a server, here and on real hardware.
 *
 * @example
 * ```ts
 * const wol = udpWolSender({ broadcast: "10.249.255.255", port: 9 });
 * await wol.send("52:54:00:12:34:56");
 * ```
 */
import { createSocket } from "node:dgram";
import { magicPacket } from "@zgrid/types";

export interface WolSender {
  send(mac: string): Promise<void>;
}

export function udpWolSender(o: { broadcast: string; port: number }): WolSender {
  return {
    async send(mac) {
      const packet = magicPacket(mac);
      const socket = createSocket("udp4");
      try {
        await new Promise<void>((resolve, reject) => socket.bind(0, () => { socket.setBroadcast(true); resolve(); }).once("error", reject));
        // Three copies, like common WoL tools: UDP has no retransmission.
        for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => socket.send(packet, o.port, o.broadcast, (e) => (e ? reject(e) : resolve())));
      } finally {
        socket.close();
      }
    },
  };
}
