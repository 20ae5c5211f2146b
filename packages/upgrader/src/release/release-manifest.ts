/**
 * The release manifest: what governance votes on and what a node checks before it runs anything.
 * A release file is JSON `{ manifest, signer, signature }`; the signature (secp256k1, r||s||v) is
 * over keccak-256 of `zgrid-release-v1\n` + the canonical JSON of `manifest` (sorted keys). The
 * chain records keccak-256 of the exact file bytes (`manifestHash`), so the file a node downloads
 * is the file the farms voted on, byte for byte.
 *
 * @example
 * ```ts
 * const file = signReleaseManifest(manifest, releaseKey);          // bytes to publish
 * const hash = releaseFileHash(file);                              // for proposeRelease
 * const m = openReleaseFile(file, { trustedKeys: [releaseKey.address], expectedHash: hash });
 * ```
 */
import semver from "semver";
import { z } from "zod";
import { keccak256, recoverAddress, signDigest, type TwinKey } from "@zgrid/types";
import { ReleaseRejectedError } from "../errors.ts";

/** Largest release file accepted (a manifest is a few hundred bytes). */
export const MAX_RELEASE_FILE_BYTES = 64 * 1024;

const relPath = z.string().min(1).max(256).refine((p) => !p.startsWith("/") && !p.split("/").includes("..") && !p.includes("\0"), "must be a relative path inside the release");
const version = z.string().max(64).refine((v) => semver.valid(v.replace(/^v/, "")) !== null, "must be a semantic version (e.g. 2.0.0 or v2.0.0)");

export const releaseManifestSchema = z.strictObject({
  format: z.literal("zgrid-release-v1"),
  version,
  /** The release flist: its file name next to the manifest, root digest (signed), sizes. */
  flist: z.strictObject({ file: z.string().regex(/^[A-Za-z0-9._-]{1,128}\.fl$/), root: z.string().regex(/^[0-9a-f]{64}$/), files: z.number().int().min(0), bytes: z.number().int().min(0) }),
  /** Versions a node may upgrade from (inclusive); absent: any. */
  previous: z.strictObject({ min: version.optional(), max: version.optional() }),
  /** Schema version of the node state this release writes (it reads every older one). */
  stateSchema: z.number().int().min(1).max(1_000_000),
  /** Human notes on state migrations, shown to voters. */
  migrations: z.array(z.string().max(1024)).max(64),
  /** How to run zosd from the unpacked release; `node` absent: the upgrader's own Node runs it. */
  entry: z.strictObject({ node: relPath.optional(), zosd: relPath }),
  builtAt: z.string().max(64),
});

export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;

const fileSchema = z.strictObject({ manifest: z.unknown(), signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/) });

/** Canonical JSON: object keys sorted, no whitespace. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function manifestDigest(m: ReleaseManifest): Uint8Array {
  return keccak256(new TextEncoder().encode(`zgrid-release-v1\n${canonicalJson(m)}`));
}

/** Signs a manifest with a release key; returns the release file's bytes. */
export function signReleaseManifest(m: ReleaseManifest, key: Pick<TwinKey, "privateKey" | "address">): Uint8Array {
  const manifest = releaseManifestSchema.parse(m);
  const signature = signDigest(key, manifestDigest(manifest));
  return new TextEncoder().encode(`${JSON.stringify({ manifest, signer: key.address, signature }, null, 2)}\n`);
}

/** keccak-256 of the release file's bytes, as the chain stores it. */
export function releaseFileHash(file: Uint8Array): `0x${string}` {
  return `0x${Buffer.from(keccak256(file)).toString("hex")}`;
}

/**
 * Parses and checks a release file: size, hash (when the chain's is given), schema, signature by
 * one of `trustedKeys`. Throws ReleaseRejectedError saying which check failed.
 */
export function openReleaseFile(file: Uint8Array, o: { trustedKeys: string[]; expectedHash?: string; source?: string }): ReleaseManifest & { signer: `0x${string}` } {
  const where = o.source ? ` (${o.source})` : "";
  if (file.length > MAX_RELEASE_FILE_BYTES) throw new ReleaseRejectedError(`release file${where} is ${file.length} bytes, at most ${MAX_RELEASE_FILE_BYTES} allowed`);
  if (o.expectedHash !== undefined && releaseFileHash(file).toLowerCase() !== o.expectedHash.toLowerCase()) {
    throw new ReleaseRejectedError(`release file${where} does not match the hash approved on chain`, {
      details: { expected: o.expectedHash, got: releaseFileHash(file) }, hint: "the file was changed after the vote, or the URL serves another release: publish the exact file that was proposed",
    });
  }
  let parsed: z.infer<typeof fileSchema>;
  let manifest: ReleaseManifest;
  try {
    parsed = fileSchema.parse(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(file)));
    manifest = releaseManifestSchema.parse(parsed.manifest);
  } catch (e) {
    throw new ReleaseRejectedError(`release file${where} is not a valid release manifest: ${e instanceof Error ? e.message.slice(0, 500) : String(e)}`, { cause: e });
  }
  const signer = recoverAddress(manifestDigest(manifest), parsed.signature);
  if (!signer || signer.toLowerCase() !== parsed.signer.toLowerCase()) {
    throw new ReleaseRejectedError(`release ${manifest.version}${where}: the signature does not match its manifest`, { hint: "the manifest was modified after signing; rebuild and re-sign it" });
  }
  if (!o.trustedKeys.some((k) => k.toLowerCase() === signer.toLowerCase())) {
    throw new ReleaseRejectedError(`release ${manifest.version}${where} is signed by ${signer}, which is not a pinned release key`, {
      details: { signer, trusted: o.trustedKeys }, hint: "only releases signed by a key in the upgrader's `releaseKeys` run; add the key there if you trust it",
    });
  }
  return { ...manifest, signer };
}

/** True when a node running `current` may upgrade to `m` (previous-version bounds). */
export function acceptsPrevious(m: ReleaseManifest, current: string): boolean {
  const cur = semver.valid(current.replace(/^v/, ""));
  if (!cur) return m.previous.min === undefined && m.previous.max === undefined;
  if (m.previous.min && semver.lt(cur, m.previous.min.replace(/^v/, ""))) return false;
  if (m.previous.max && semver.gt(cur, m.previous.max.replace(/^v/, ""))) return false;
  return true;
}
