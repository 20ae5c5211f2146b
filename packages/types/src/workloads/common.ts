/** Schema pieces shared by several workload types. */
import { z } from "zod";
import { MiB, MAX_BYTE_SIZE } from "./limits.ts";

/** A workload name: `^[a-zA-Z0-9_]+$`, 1–36 characters (REFERENCE.md). */
export const WORKLOAD_NAME = /^[a-zA-Z0-9_]{1,36}$/;

/** Byte sizes: safe non-negative integers, at most 1 PiB (larger is never a real disk). */
export const byteSize = z.number().int().min(0).max(MAX_BYTE_SIZE);

/** A size that must be positive (disks, volumes). */
export const positiveSize = byteSize.min(1);

export const shortText = (max: number) => z.string().max(max);

/** Names of env variables: POSIX portable (letters, digits, underscore, not starting with a digit). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An absolute guest path without "." or ".." segments, NUL or newlines. */
export function isCleanAbsolutePath(p: string): boolean {
  if (!p.startsWith("/") || p.length > 4096 || /[\0\n\r]/.test(p)) return false;
  return p.split("/").every((seg) => seg !== "." && seg !== "..");
}

export { MiB };
