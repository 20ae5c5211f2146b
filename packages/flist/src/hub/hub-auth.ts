/**
 * Signed hub requests: a twin proves who uploads a block with the header
 * `x-zgrid-auth: <address>:<unix seconds>:<signature>`, the signature (secp256k1, `signDigest` of
 * @zgrid/types) over BLAKE2b-256 of `zgrid-hub-v1\n<METHOD>\n<path>\n<seconds>`. The path of a
 * block PUT names its content hash, so a replayed header can only re-upload the same bytes within
 * the time window. The hub charges each block to the twin that first uploaded it (per-twin quota).
 *
 * @example
 * ```ts
 * const headers = signHubRequest(key, "PUT", "/blocks/ab/ab12…");
 * const twin = checkHubRequest(headers["x-zgrid-auth"], "PUT", "/blocks/ab/ab12…"); // "0x…"
 * ```
 */
import { recoverAddress, signDigest, type TwinKey } from "@zgrid/types";
import { blake2b256 } from "../format/hash.ts";

export const HUB_AUTH_HEADER = "x-zgrid-auth";
/** Accepted clock difference between client and hub, seconds. */
export const HUB_AUTH_WINDOW_S = 300;

function digest(method: string, path: string, seconds: number): Uint8Array {
  return blake2b256(Buffer.from(`zgrid-hub-v1\n${method}\n${path}\n${seconds}`));
}

/** Headers that authenticate one request to the hub as the key's twin. */
export function signHubRequest(key: Pick<TwinKey, "privateKey" | "address">, method: string, path: string, now: number = Date.now()): Record<string, string> {
  const seconds = Math.floor(now / 1000);
  return { [HUB_AUTH_HEADER]: `${key.address}:${seconds}:${signDigest(key, digest(method, path, seconds))}` };
}

export class HubAuthError extends Error {}

/** Returns the twin address that signed the request; throws HubAuthError with the reason. */
export function checkHubRequest(header: string | string[] | undefined, method: string, path: string, now: number = Date.now()): `0x${string}` {
  if (typeof header !== "string" || header.length > 512) throw new HubAuthError(`missing ${HUB_AUTH_HEADER} header: uploads must be signed by a twin`);
  const [address, secondsText, signature] = header.split(":");
  const seconds = Number(secondsText);
  if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address) || !Number.isInteger(seconds) || !signature) throw new HubAuthError(`malformed ${HUB_AUTH_HEADER} header (want <address>:<seconds>:<signature>)`);
  if (Math.abs(now / 1000 - seconds) > HUB_AUTH_WINDOW_S) throw new HubAuthError(`signed request is too old or from the future (clock skew over ${HUB_AUTH_WINDOW_S} s)`);
  let signer: `0x${string}` | undefined;
  try {
    signer = recoverAddress(digest(method, path, seconds), signature);
  } catch {
    signer = undefined;
  }
  if (!signer || signer.toLowerCase() !== address.toLowerCase()) throw new HubAuthError("request signature does not match the address");
  return signer;
}
