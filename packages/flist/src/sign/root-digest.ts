/**
 * The root digest of an flist: BLAKE2b-256 over a canonical, length-prefixed encoding of the whole
 * listing — every entry in sorted depth-first order with its path, mode, uid, gid, size, rdev,
 * mtime (s + ns), symlink target, hard-link target path, xattrs (sorted) and block ids and keys,
 * then every tag except the signature tags. Routes and ctime are left out: stores may move and
 * ctime cannot be restored. Any change to content or metadata changes the digest.
 *
 * @example
 * ```ts
 * const digest = await computeRootDigest(FlistReader.open("a.fl")); // 32 bytes
 * ```
 */
import { createBlake2b256 } from "../format/hash.ts";
import type { FlistReader } from "../format/flist-reader.ts";
import { TAGS } from "../format/schema.ts";

const DOMAIN = "zgrid-flist-root-v1";
/** Tags that carry the signature itself and so cannot be part of what is signed. */
export const SIGNATURE_TAGS: ReadonlySet<string> = new Set([TAGS.signer, TAGS.signature, TAGS.root]);

export async function computeRootDigest(reader: FlistReader): Promise<Uint8Array> {
  const h = await createBlake2b256();
  h.init();
  // Fields are gathered in a buffer and hashed in 64 KiB pieces: one wasm call per piece, not per field.
  const buf = Buffer.allocUnsafe(64 * 1024);
  let at = 0;
  const flush = (): void => {
    if (at > 0) h.update(buf.subarray(0, at));
    at = 0;
  };
  const put = (bytes: Uint8Array): void => {
    if (at + bytes.length > buf.length) flush();
    if (bytes.length > buf.length) return void h.update(bytes);
    buf.set(bytes, at);
    at += bytes.length;
  };
  const u32 = (n: number): void => {
    if (at + 4 > buf.length) flush();
    buf.writeUInt32BE(n >>> 0, at);
    at += 4;
  };
  const u64 = (n: number): void => {
    if (at + 8 > buf.length) flush();
    buf.writeBigInt64BE(BigInt(Math.trunc(n)), at);
    at += 8;
  };
  const field = (bytes: Uint8Array): void => {
    u32(bytes.length);
    put(bytes);
  };
  field(Buffer.from(DOMAIN));

  // Paths of hard-link targets (only those are needed).
  const linked = new Set<number>();
  for (const inode of reader.index().byIno.values()) if (inode.link !== undefined) linked.add(inode.link);
  const paths = new Map<number, Buffer>();
  if (linked.size > 0) for (const { path, inode } of reader.walk()) if (linked.has(inode.ino)) paths.set(inode.ino, path);
  for (const { path, inode } of reader.walk()) {
    field(path);
    u32(inode.mode);
    u32(inode.uid);
    u32(inode.gid);
    u64(inode.size);
    u64(inode.rdev);
    u64(inode.mtime);
    u32(inode.mtimeNsec);
    field(inode.target ?? Buffer.alloc(0));
    field(inode.link !== undefined ? (paths.get(inode.link) ?? Buffer.from(`#${inode.link}`)) : Buffer.alloc(0));
    const xattrs = reader.xattrs(inode.ino).sort((a, b) => Buffer.compare(a.name, b.name));
    u32(xattrs.length);
    for (const x of xattrs) {
      field(x.name);
      field(x.value);
    }
    const blocks = reader.blocks(inode.ino);
    u32(blocks.length);
    for (const b of blocks) {
      put(b.id);
      put(b.key);
    }
  }
  const tags = Object.entries(reader.tags()).filter(([k]) => !SIGNATURE_TAGS.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  u32(tags.length);
  for (const [k, v] of tags) {
    field(Buffer.from(k));
    field(Buffer.from(v));
  }
  flush();
  return h.digest("binary");
}
