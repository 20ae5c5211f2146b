/**
 * Wake-on-LAN magic packets (AMD's "Magic Packet" format, as NICs match it): 6 bytes 0xFF then the
 * target MAC 16 times, sent as a UDP broadcast to port 9 (or as ethertype 0x0842). A NIC armed for
 * WoL (`ethtool -s eth0 wol g`) powers its machine on when it sees one naming its MAC; the local
 * grid's simulated BMC matches the same bytes.
 *
 * @example
 * ```ts
 * const bytes = magicPacket("52:54:00:12:34:56");   // 102 bytes
 * parseMagicPacket(bytes);                           // "52:54:00:12:34:56"
 * parseMagicPacket(new Uint8Array(10));              // undefined
 * ```
 */
import { ValidationError } from "../errors/validation-error.ts";

/** The UDP port WoL senders use ("discard"). */
export const WOL_PORT = 9;
/** 6 sync bytes + 16 × 6 MAC bytes. */
export const MAGIC_PACKET_BYTES = 102;

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** Lower-case, colon-separated MAC; ValidationError for anything else. */
export function normalizeMac(mac: string): string {
  const m = mac.trim().toLowerCase().replace(/-/g, ":");
  if (!MAC.test(m)) throw new ValidationError([{ field: "mac", value: mac.slice(0, 40), expected: "a MAC address like 52:54:00:12:34:56" }]);
  return m;
}

/** The magic packet that wakes the NIC with `mac`. */
export function magicPacket(mac: string): Uint8Array {
  const bytes = normalizeMac(mac).split(":").map((h) => Number.parseInt(h, 16));
  const out = new Uint8Array(MAGIC_PACKET_BYTES).fill(0xff);
  for (let i = 0; i < 16; i++) out.set(bytes, 6 + i * 6);
  return out;
}

/**
 * The MAC a magic packet names, or undefined when `data` is not one. Accepts the packet anywhere
 * in the payload (senders may prefix it) and an optional SecureOn password after it, like NICs do;
 * inputs longer than 1 KiB are ignored.
 */
export function parseMagicPacket(data: Uint8Array): string | undefined {
  if (data.length < MAGIC_PACKET_BYTES || data.length > 1024) return undefined;
  for (let start = 0; start + MAGIC_PACKET_BYTES <= data.length; start++) {
    if (!isSync(data, start)) continue;
    const mac = data.subarray(start + 6, start + 12);
    let ok = true;
    for (let i = 1; i < 16 && ok; i++) for (let j = 0; j < 6 && ok; j++) ok = data[start + 6 + i * 6 + j] === mac[j];
    if (ok) return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
  }
  return undefined;
}

function isSync(data: Uint8Array, start: number): boolean {
  for (let i = 0; i < 6; i++) if (data[start + i] !== 0xff) return false;
  return true;
}
