/**
 * Test support: polls `fn` every 300 ms until `ok` holds (its value), or throws after `timeoutMs`
 * naming what was awaited and the last value seen (its first 2,000 characters).
 *
 * @example
 * ```ts
 * const d = await waitFor("vm running", () => getDeployment(f, user, id), (x) => x.workloads.every(ok), 60_000);
 * ```
 */
export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}
