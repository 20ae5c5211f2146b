/**
 * Handing a services file to the twin's 3bot: `zgrid bot apply -f` always, and `zgrid apply -f`
 * when the file is a 3bot services file (`services:` is a list; a Compose file's `services:` is a
 * map) — then a running 3bot of this data dir takes it within a second (its pass loop polls the
 * database's apply flag). Without a running 3bot `zgrid apply -f` refuses with what to do, so a
 * spec never sits unseen; `zgrid bot apply -f` stores it for the next `zgrid bot run`.
 *
 * @example
 * ```ts
 * const text = readFileSync("web.yaml", "utf8");
 * if (await isBotServicesFile(text)) await storeBotSpec(opts, "web.yaml", text, { replace: false });
 * ```
 */
import { join } from "node:path";
import { knownFlists, type GlobalOptions } from "../context.ts";

/** The bot's database of a data dir (or `--db`). */
export const botDbOf = (opts: GlobalOptions, db?: string): string => db ?? join(opts.dataDir, "3bot.db");

/** Whether a YAML/JSON text is a 3bot services file (`services:` is a list; Compose has a map). */
export async function isBotServicesFile(text: string): Promise<boolean> {
  if (!/^services\s*:/m.test(text) && !/"services"\s*:/.test(text)) return false;
  const { parse } = await import("yaml");
  try {
    return Array.isArray((parse(text, { maxAliasCount: 100 }) as { services?: unknown } | null)?.services);
  } catch {
    return false;
  }
}

/**
 * Parses a services file, resolves known flist names (busybox → the grid's URL), validates it and
 * stores it as the bot's desired state (BotInputError naming the field otherwise; BotDataLossError
 * naming the disk when a service's disk is removed or shrunk, unless `allowDataLoss`). With `dryRun`
 * only validates.
 */
export async function storeBotSpec(opts: GlobalOptions, file: string, text: string, o: { replace?: boolean; db?: string; dryRun?: boolean; allowDataLoss?: boolean }): Promise<{ services: string[] }> {
  const { applyToStore, openBotStore, parseBotSpec, BotInputError } = await import("@zgrid/bot");
  const { parse } = await import("yaml");
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new BotInputError(`${file}: ${(e as Error).message.split("\n")[0]}`, { hint: "give a YAML or JSON file with a services: list" });
  }
  const flists = await knownFlists(opts);
  const spec = raw as { services?: Array<{ flist?: string }>; replace?: boolean };
  for (const s of Array.isArray(spec?.services) ? spec.services : []) if (s && typeof s.flist === "string" && flists[s.flist]) s.flist = flists[s.flist];
  const full = { ...spec, ...(o.replace ? { replace: true } : {}) };
  if (o.dryRun) return { services: parseBotSpec(full).services.map((s) => s.name) };
  const store = openBotStore(botDbOf(opts, o.db));
  try {
    return applyToStore(store, full, { allowDataLoss: o.allowDataLoss === true });
  } finally {
    store.close();
  }
}
