/**
 * The on-disk record format of a zdb namespace: one append-only data file of checksummed records.
 * The index is never stored: it is rebuilt from the data file on open, so the file alone is the
 * truth. A record is `u32 bodyLength | u32 crc32(body) | body`, body = `u8 op | u8 keyLength |
 * u32 unixSeconds | key | value`. A crash can leave only a torn tail (a short or mismatching last
 * record): `scanLog` stops there and the caller truncates the file to the last whole record.
 *
 * @example
 * ```ts
 * const rec = encodeRecord({ op: OP_SET, key: Buffer.from("k"), value: Buffer.from("v"), time: 1 });
 * scanLog(fd, size, (r, offset) => index.apply(r, offset)); // { validBytes, torn }
 * ```
 */
import { readSync } from "node:fs";
import { crc32 } from "node:zlib";

export const OP_SET = 1;
export const OP_DEL = 2;
/** Written by compaction: value = u32 next sequential id (so ids of deleted keys are never reused). */
export const OP_SEQ = 3;

export const HEADER_BYTES = 8;
const BODY_FIXED = 6;
/** 0-db's limits: keys up to 255 bytes, values up to 8 MiB. */
export const MAX_KEY_BYTES = 255;
export const MAX_VALUE_BYTES = 8 * 1024 * 1024;
const MAX_BODY = BODY_FIXED + MAX_KEY_BYTES + MAX_VALUE_BYTES;

export interface LogRecord {
  op: number;
  key: Buffer;
  value: Buffer;
  time: number;
}

/** Where a record's value lives in the data file. */
export interface RecordPlace {
  /** offset of the record's header */
  offset: number;
  /** total record bytes (header + body) */
  length: number;
  valueOffset: number;
  valueLength: number;
}

export function encodeRecord(r: LogRecord): Buffer {
  const bodyLen = BODY_FIXED + r.key.length + r.value.length;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + bodyLen);
  buf.writeUInt32LE(bodyLen, 0);
  buf.writeUInt8(r.op, 8);
  buf.writeUInt8(r.key.length, 9);
  buf.writeUInt32LE(r.time >>> 0, 10);
  r.key.copy(buf, 14);
  r.value.copy(buf, 14 + r.key.length);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER_BYTES)), 4);
  return buf;
}

/** The value's position inside an encoded record written at `offset`. */
export function placeOf(offset: number, key: Buffer, value: Buffer): RecordPlace {
  return { offset, length: HEADER_BYTES + BODY_FIXED + key.length + value.length, valueOffset: offset + HEADER_BYTES + BODY_FIXED + key.length, valueLength: value.length };
}

/**
 * Reads every whole record of the file in order (buffered, records may span reads); values are
 * handed out as views that are only valid during the callback. Returns how many bytes are whole
 * records and whether a torn/corrupt tail follows.
 */
export function scanLog(fd: number, size: number, each: (r: LogRecord, place: RecordPlace) => void): { validBytes: number; torn: boolean } {
  let buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let bufStart = 0; // file offset of buf[0]
  let bufLen = 0;
  const ensure = (offset: number, n: number): boolean => {
    if (offset + n > size) return false;
    if (offset >= bufStart && offset + n <= bufStart + bufLen) return true;
    if (n > buf.length) buf = Buffer.allocUnsafe(n);
    bufStart = offset;
    bufLen = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
    return bufLen >= n;
  };
  let pos = 0;
  while (pos < size) {
    if (!ensure(pos, HEADER_BYTES)) return { validBytes: pos, torn: true };
    const at = pos - bufStart;
    const bodyLen = buf.readUInt32LE(at);
    const crc = buf.readUInt32LE(at + 4);
    if (bodyLen < BODY_FIXED || bodyLen > MAX_BODY) return { validBytes: pos, torn: true };
    if (!ensure(pos, HEADER_BYTES + bodyLen)) return { validBytes: pos, torn: true };
    const b = pos - bufStart + HEADER_BYTES;
    const body = buf.subarray(b, b + bodyLen);
    if (crc32(body) !== crc) return { validBytes: pos, torn: true };
    const op = body.readUInt8(0);
    const keyLen = body.readUInt8(1);
    if (BODY_FIXED + keyLen > bodyLen || (op !== OP_SET && op !== OP_DEL && op !== OP_SEQ)) return { validBytes: pos, torn: true };
    const key = body.subarray(BODY_FIXED, BODY_FIXED + keyLen);
    const value = body.subarray(BODY_FIXED + keyLen);
    each({ op, key, value, time: body.readUInt32LE(2) }, placeOf(pos, key, value));
    pos += HEADER_BYTES + bodyLen;
  }
  return { validBytes: pos, torn: false };
}
