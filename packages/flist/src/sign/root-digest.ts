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
  const u32 = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    h.update(b);
  };
  const u64 = (n: number): void => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(Math.trunc(n)));
    h.update(b);
  };
  const field = (bytes: Uint8Array): void => {
    u32(bytes.length);
    h.update(bytes);
  };
  field(Buffer.from(DOMAIN));

  const paths = new Map<number, Buffer>();
  for (const { path, inode } of reader.walk()) paths.set(inode.ino, path);
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
      h.update(b.id);
      h.update(b.key);
    }
  }
  const tags = Object.entries(reader.tags()).filter(([k]) => !SIGNATURE_TAGS.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  u32(tags.length);
  for (const [k, v] of tags) {
    field(Buffer.from(k));
    field(Buffer.from(v));
  }
  return h.digest("binary");
}
