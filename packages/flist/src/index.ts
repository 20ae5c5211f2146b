// @zgrid/flist — rfs-compatible flists: format, stores, pack/unpack, signing, verify, mount, hub, OCI import.
export * from "./errors/flist-errors.ts";
export * from "./format/schema.ts";
export * from "./format/hash.ts";
export * from "./format/block-codec.ts";
export * from "./format/flist-reader.ts";
export * from "./format/flist-writer.ts";
export * from "./format/edit-flist.ts";
export * from "./store/block-store.ts";
export * from "./store/dir-store.ts";
export * from "./store/http-store.ts";
export * from "./store/router-store.ts";
export * from "./store/resolve-stores.ts";
export * from "./pack/pack-flist.ts";
export * from "./sign/root-digest.ts";
export * from "./sign/sign-flist.ts";
export * from "./verify-flist.ts";
export * from "./unpack-flist.ts";
