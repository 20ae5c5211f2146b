/**
 * Server slots of a gateway route. HAProxy's runtime API can change a server's address and turn it
 * on or off, but not add TLS to it: so a route's backends live in a fixed list of slots, each
 * either holding one backend or free (a disabled placeholder), with its TLS setting fixed. A new
 * set of backends keeps every backend that stays in its slot (its connections are not touched),
 * puts new ones in free slots — preferring slots free before this change, so a just-retired
 * server's slot is not reused while its last requests finish — and grows the list only when no
 * free slot fits (a layout change: then HAProxy reloads once).
 *
 * @example
 * ```ts
 * const a = initialSlots(["http://10.1.2.5:80", "http://10.1.3.5:80"], false); // 4 slots, 2 free
 * const b = assignSlots(a, ["http://10.1.2.5:80", "http://10.1.4.5:80"], false);
 * // b[0] keeps 10.1.2.5, 10.1.4.5 goes to slot 2 (free before), slot 1 is free now
 * ```
 */

export interface Slot {
  /** The backend string this slot serves, null when free. */
  backend: string | null;
  /** HTTPS to the backend (fixed for the slot: the runtime API cannot switch it). */
  ssl: boolean;
}

/** Fewest slots of a route, so a few replicas can come and go without a reload. */
export const MIN_SLOTS = 4;

const wantsSsl = (b: string, tlsPassthrough: boolean) => !tlsPassthrough && b.startsWith("https:");

/** Slots of a route laid out fresh: its backends, then free slots (twice the backends, at least MIN_SLOTS in all). */
export function initialSlots(backends: readonly string[], tlsPassthrough: boolean): Slot[] {
  const slots: Slot[] = backends.map((b) => ({ backend: b, ssl: wantsSsl(b, tlsPassthrough) }));
  const spareSsl = backends.length > 0 && backends.every((b) => wantsSsl(b, tlsPassthrough));
  const total = Math.max(MIN_SLOTS, 2 * backends.length);
  while (slots.length < total) slots.push({ backend: null, ssl: spareSsl });
  return slots;
}

/**
 * The slots for `backends` given the current ones (see the module doc). A backend listed twice
 * takes two slots (it gets twice the share, as before).
 */
export function assignSlots(current: readonly Slot[], backends: readonly string[], tlsPassthrough: boolean): Slot[] {
  const wanted = new Map<string, number>();
  for (const b of backends) wanted.set(b, (wanted.get(b) ?? 0) + 1);
  const next: Slot[] = [];
  const vacated = new Set<number>();
  current.forEach((s, i) => {
    const left = s.backend === null ? 0 : wanted.get(s.backend) ?? 0;
    if (s.backend !== null && left > 0) {
      wanted.set(s.backend, left - 1);
      next.push({ ...s });
    } else {
      if (s.backend !== null) vacated.add(i);
      next.push({ backend: null, ssl: s.ssl });
    }
  });
  for (const [b, n] of wanted) {
    for (let k = 0; k < n; k++) {
      const ssl = wantsSsl(b, tlsPassthrough);
      const fits = (i: number) => next[i]!.backend === null && next[i]!.ssl === ssl;
      let at = next.findIndex((_, i) => fits(i) && !vacated.has(i));
      if (at < 0) at = next.findIndex((_, i) => fits(i));
      if (at < 0) next.push({ backend: b, ssl });
      else next[at] = { backend: b, ssl };
    }
  }
  return next;
}

/** True when `slots` is a well-formed slot list (read back from disk). */
export function isSlots(x: unknown): x is Slot[] {
  return Array.isArray(x) && x.length <= 1024 && x.every((s) => !!s && typeof s === "object" && (s.backend === null || typeof s.backend === "string") && typeof s.ssl === "boolean");
}
