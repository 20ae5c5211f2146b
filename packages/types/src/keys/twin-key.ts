/**
 * Twin keys: BIP-39 mnemonic -> BIP-32 (m/44'/60'/0'/0/0, the Ethereum path wallets use) ->
 * secp256k1 key -> Ethereum address. The same key is the twin's chain account and its bus peer id.
 *
 * @example
 * ```ts
 * const key = twinKeyFromMnemonic("test test test test test test test test test test test junk");
 * key.address; // "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
 * const sig = signDigest(key, keccak256(bytes));
 * recoverAddress(keccak256(bytes), sig) === key.address; // true
 * ```
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { HDKey } from "@scure/bip32";
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { KeyError } from "../errors/key-error.ts";

/** The derivation path of the first Ethereum account (what MetaMask, viem and Hardhat use). */
export const TWIN_KEY_PATH = "m/44'/60'/0'/0/0";

export interface TwinKey {
  /** 32-byte secret scalar. Keep it secret. */
  readonly privateKey: Uint8Array;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** EIP-55 checksummed Ethereum address: the twin's chain account. */
  readonly address: `0x${string}`;
}

/** Creates a new random 12-word English mnemonic. */
export function newMnemonic(): string {
  return generateMnemonic(wordlist, 128);
}

/** Derives the twin key of a mnemonic. Throws KeyError when the mnemonic is not valid BIP-39. */
export function twinKeyFromMnemonic(mnemonic: string, path: string = TWIN_KEY_PATH): TwinKey {
  const words = mnemonic.trim().split(/\s+/).join(" ");
  if (!validateMnemonic(words, wordlist)) {
    throw new KeyError("mnemonic is not a valid BIP-39 English phrase", {
      hint: "use 12 or 24 words from the BIP-39 English list, e.g. from `zgrid twin new`",
    });
  }
  const node = HDKey.fromMasterSeed(mnemonicToSeedSync(words)).derive(path);
  if (!node.privateKey) throw new KeyError(`no private key at path ${path}`);
  return twinKeyFromPrivateKey(node.privateKey);
}

/** Builds a twin key from a 32-byte private key (bytes or 0x-hex). */
export function twinKeyFromPrivateKey(privateKey: Uint8Array | string): TwinKey {
  const raw = typeof privateKey === "string" ? hexToBytes(strip0x(privateKey)) : Uint8Array.from(privateKey);
  if (raw.length !== 32 || !secp256k1.utils.isValidSecretKey(raw)) {
    throw new KeyError("private key must be 32 bytes and a valid secp256k1 scalar", { details: { length: raw.length } });
  }
  const publicKey = secp256k1.getPublicKey(raw, true);
  return { privateKey: raw, publicKey, address: addressFromPublicKey(publicKey) };
}

/** Ethereum address of a secp256k1 public key (compressed or uncompressed). */
export function addressFromPublicKey(publicKey: Uint8Array): `0x${string}` {
  const point = secp256k1.Point.fromBytes(publicKey);
  const uncompressed = point.toBytes(false);
  return checksumAddress(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)));
}

/** EIP-55 mixed-case checksum of a 20-byte hex address. */
export function checksumAddress(address: string): `0x${string}` {
  const lower = strip0x(address).toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(lower)) throw new KeyError(`not an address: ${address}`, { details: { address } });
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out as `0x${string}`;
}

/** Signs a 32-byte digest; returns 65 bytes r || s || v (v = recovery id 0/1) as 0x-hex. */
export function signDigest(key: Pick<TwinKey, "privateKey">, digest: Uint8Array): `0x${string}` {
  if (digest.length !== 32) throw new KeyError("digest must be 32 bytes", { details: { length: digest.length } });
  const sig = secp256k1.sign(digest, key.privateKey, { prehash: false, format: "recovered" });
  // noble's "recovered" format is v || r || s; zgrid (like Ethereum) writes r || s || v.
  const out = new Uint8Array(65);
  out.set(sig.subarray(1), 0);
  out[64] = sig[0]!;
  return `0x${bytesToHex(out)}`;
}

/**
 * Recovers the signer's address of a digest signature. Returns undefined for a malformed
 * signature (wrong length, bad hex, not on the curve) instead of throwing: callers compare it.
 */
export function recoverAddress(digest: Uint8Array, signature: string): `0x${string}` | undefined {
  try {
    const raw = hexToBytes(strip0x(signature));
    if (raw.length !== 65 || digest.length !== 32) return undefined;
    const v = raw[64]! >= 27 ? raw[64]! - 27 : raw[64]!;
    if (v > 1) return undefined;
    const noble = new Uint8Array(65);
    noble[0] = v;
    noble.set(raw.subarray(0, 64), 1);
    const sig = secp256k1.Signature.fromBytes(noble, "recovered");
    // Reject high-s signatures: each message then has exactly one valid signature (no malleability).
    if (sig.hasHighS()) return undefined;
    const pub = secp256k1.recoverPublicKey(noble, digest, { prehash: false });
    return addressFromPublicKey(pub);
  } catch {
    return undefined;
  }
}

/** True when `signature` over `digest` was made by the key of `address`. */
export function verifyDigest(digest: Uint8Array, signature: string, address: string): boolean {
  const signer = recoverAddress(digest, signature);
  return signer !== undefined && signer.toLowerCase() === address.toLowerCase();
}

/** keccak-256 of bytes. */
export function keccak256(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

export function strip0x(hex: string): string {
  return hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
}

export { bytesToHex, hexToBytes };
