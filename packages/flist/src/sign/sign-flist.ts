/**
 * Signs an flist with a twin key: the root digest is signed (secp256k1, r||s||v) and stored in
 * the tags `zgrid.root`, `zgrid.signer` (address) and `zgrid.signature`.
 *
 * @example
 * ```ts
 * await signFlist("app.fl", twinKeyFromMnemonic(mnemonic));
 * const { signer } = await checkFlistSignature(FlistReader.open("app.fl"), { trustedSigners: [addr] });
 * ```
 */
import { bytesToHex, recoverAddress, signDigest, type TwinKey } from "@zgrid/types";
import { SignatureError } from "../errors/flist-errors.ts";
import { editFlist } from "../format/edit-flist.ts";
import { FlistReader } from "../format/flist-reader.ts";
import { TAGS } from "../format/schema.ts";
import { computeRootDigest } from "./root-digest.ts";

export interface SignResult {
  signer: `0x${string}`;
  root: string;
  signature: string;
}

/** Signs `path` in place (or writes the signed copy to `output`). */
export async function signFlist(path: string, key: TwinKey, output: string = path): Promise<SignResult> {
  const reader = FlistReader.open(path);
  let digest: Uint8Array;
  try {
    digest = await computeRootDigest(reader);
  } finally {
    reader.close();
  }
  const signature = signDigest(key, digest);
  const root = bytesToHex(digest);
  editFlist(path, { setTags: { [TAGS.root]: root, [TAGS.signer]: key.address, [TAGS.signature]: signature } }, output);
  return { signer: key.address, root, signature };
}

export interface SignatureCheckOptions {
  /** Addresses accepted as signers; when given, any other signer is refused. */
  trustedSigners?: string[];
}

export interface SignatureInfo {
  signer: `0x${string}`;
  root: string;
}

/** Recomputes the root digest and checks the signature tags. Throws SignatureError. */
export async function checkFlistSignature(reader: FlistReader, options: SignatureCheckOptions = {}): Promise<SignatureInfo> {
  const claimed = reader.tag(TAGS.signer);
  const signature = reader.tag(TAGS.signature);
  if (!claimed || !signature) throw new SignatureError(`${reader.path} is not signed`, { details: { path: reader.path } });
  const digest = await computeRootDigest(reader);
  const signer = recoverAddress(digest, signature);
  if (!signer || signer.toLowerCase() !== claimed.toLowerCase()) {
    throw new SignatureError(`${reader.path}: signature does not match the content (tampered or re-packed after signing)`, {
      details: { path: reader.path, claimedSigner: claimed, recovered: signer ?? null },
    });
  }
  const trusted = options.trustedSigners;
  if (trusted && !trusted.some((t) => t.toLowerCase() === signer.toLowerCase())) {
    throw new SignatureError(`${reader.path} is signed by ${signer}, which is not a trusted signer`, { details: { signer, trusted } });
  }
  return { signer, root: bytesToHex(digest) };
}
