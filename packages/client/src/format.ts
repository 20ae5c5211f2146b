/**
 * Human formatting shared by the SDK's messages and the CLI's tables.
 *
 * @example
 * ```ts
 * formatBytes(8 * 1024 ** 3); // "8 GiB"
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** Parses "512M", "2G", "1.5GiB", "1024" (MiB by default) into bytes. */
export function parseSize(text: string, defaultUnit: "M" | "G" = "M"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const unit = (m[2] || defaultUnit).toUpperCase();
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
}
