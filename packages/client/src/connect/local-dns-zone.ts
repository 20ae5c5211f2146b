/**
 * The local grid's DNS zone: the records the local grid's DNS server (started by `zgrid up`, on
 * the underlay host address, used by every node as `gateway.fqdnResolvers`) answers. It stands in
 * for a domain's real DNS provider, so FQDN gateways can prove control of their domain
 * (`_zgrid.<fqdn>` TXT `zgrid-twin=<id>`) on a local grid as they must on a real one.
 *
 * The zone is a JSON file, `<dataDir>/dns/zone.json`, written atomically (temp file + rename);
 * the server re-reads it when it changes, so a record is served as soon as the call returns.
 * Bounded: ≤ 1000 records, names ≤ 253 characters (labels ≤ 63), TXT values ≤ 255 characters.
 *
 * @example
 * ```ts
 * const zone = localDnsZone("/var/lib/zgrid");
 * zone.add({ name: "_zgrid.shop.example.org", type: "TXT", value: "zgrid-twin=4" });
 * zone.add(fqdnProofRecord("shop.example.org", 4)); // the same
 * zone.list(); // [{ name: "_zgrid.shop.example.org", type: "TXT", value: "zgrid-twin=4" }]
 * zone.remove("_zgrid.shop.example.org");
 * ```
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { dirname, join } from "node:path";
import { z } from "zod";
import { InputError } from "../errors/client-errors.ts";

export const MAX_ZONE_RECORDS = 1000;
const MAX_ZONE_FILE_BYTES = 1024 * 1024;

const dnsName = z.string().max(253).transform((s) => s.toLowerCase().replace(/\.$/, ""))
  .refine((s) => s.split(".").every((l) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l)) && s.includes("."), "not a domain name (labels of a-z, 0-9, - and _, at most 63 characters, at least two labels)");

export const dnsRecordSchema = z.discriminatedUnion("type", [
  z.strictObject({ name: dnsName, type: z.literal("TXT"), value: z.string().min(1).max(255).refine((v) => /^[\x20-\x7e]*$/.test(v), "printable ASCII only") }),
  z.strictObject({ name: dnsName, type: z.literal("A"), value: z.string().refine((v) => isIPv4(v), "not an IPv4 address") }),
]);
export type DnsRecord = z.output<typeof dnsRecordSchema>;
export type DnsRecordInput = z.input<typeof dnsRecordSchema>;

const zoneSchema = z.strictObject({ records: z.array(dnsRecordSchema).max(MAX_ZONE_RECORDS) });

export function localDnsZonePath(dataDir: string): string {
  return join(dataDir, "dns", "zone.json");
}

/** The TXT record that proves a twin controls `fqdn` to a node serving an FQDN gateway. */
export function fqdnProofRecord(fqdn: string, twinId: number): DnsRecord {
  return parseRecord({ name: `_zgrid.${fqdn}`, type: "TXT", value: `zgrid-twin=${twinId}` });
}

function parseRecord(r: DnsRecordInput): DnsRecord {
  const p = dnsRecordSchema.safeParse(r);
  if (!p.success) throw new InputError(`DNS record ${r.type} ${r.name}: ${p.error.issues.map((i) => `${i.path.join(".") || "record"}: ${i.message}`).join("; ")}`, { hint: "give a name like _zgrid.shop.example.org and a TXT value (≤ 255 printable characters) or an IPv4 address" });
  return p.data;
}

/**
 * Reads a zone file: `[]` when it does not exist; throws InputError (with the file) when it is
 * not a valid zone. Used by the server and by `localDnsZone`.
 */
export function readDnsZoneFile(path: string): DnsRecord[] {
  if (!existsSync(path)) return [];
  if (statSync(path).size > MAX_ZONE_FILE_BYTES) throw new InputError(`${path}: larger than ${MAX_ZONE_FILE_BYTES} bytes`, { hint: "remove records with `zgrid dns rm`" });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`${path}: not JSON (${(e as Error).message})`, { hint: "fix or delete the file; `zgrid dns add` writes a new one" });
  }
  const p = zoneSchema.safeParse(raw);
  if (!p.success) throw new InputError(`${path}: ${p.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { hint: "fix or delete the file" });
  return p.data.records;
}

export interface LocalDnsZone {
  path: string;
  list(): DnsRecord[];
  /** Adds a record (an identical one is kept once). Returns the record as stored. */
  add(record: DnsRecordInput): DnsRecord;
  /** Removes the records of `name` (only those of `type`/`value` when given). Returns how many. */
  remove(name: string, match?: { type?: DnsRecord["type"]; value?: string }): number;
}

export function localDnsZone(dataDir: string): LocalDnsZone {
  const path = localDnsZonePath(dataDir);
  const write = (records: DnsRecord[]) => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ records }, null, 2) + "\n");
    renameSync(tmp, path);
  };
  return {
    path,
    list: () => readDnsZoneFile(path),
    add(input) {
      const rec = parseRecord(input);
      const records = readDnsZoneFile(path);
      if (records.some((r) => r.name === rec.name && r.type === rec.type && r.value === rec.value)) return rec;
      if (records.length >= MAX_ZONE_RECORDS) throw new InputError(`the local DNS zone holds ${MAX_ZONE_RECORDS} records already`, { hint: "remove some with `zgrid dns rm NAME`" });
      write([...records, rec]);
      return rec;
    },
    remove(name, match = {}) {
      const n = name.toLowerCase().replace(/\.$/, "");
      const records = readDnsZoneFile(path);
      const keep = records.filter((r) => !(r.name === n && (!match.type || r.type === match.type) && (match.value === undefined || r.value === match.value)));
      if (keep.length !== records.length) write(keep);
      return records.length - keep.length;
    },
  };
}
