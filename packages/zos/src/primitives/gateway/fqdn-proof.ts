/**
 * Proof of control of a domain before a gateway serves it: the domain's DNS must hold a TXT
 * record `_zgrid.<fqdn>` whose value is `zgrid-twin=<twin id>` of the deployment's twin. Looked
 * up through the node's configured resolvers (`gateway.fqdnResolvers`, default the system's),
 * with a timeout; checked at every provision and adoption, so a domain whose record was removed
 * or moved to another twin stops being served.
 *
 * @example
 * ```ts
 * const prove = fqdnProver({ resolvers: ["1.1.1.1"], timeoutMs: 3000 });
 * await prove("shop.example.org", 7); // throws FqdnProofError unless _zgrid.shop.example.org TXT "zgrid-twin=7"
 * ```
 */
import { Resolver } from "node:dns/promises";
import { BaseError } from "@zgrid/types";

export class FqdnProofError extends BaseError {
  override readonly code: string = "FQDN_PROOF";
}

export function fqdnProver(o: { resolvers?: readonly string[]; timeoutMs?: number }): (fqdn: string, twinId: number) => Promise<void> {
  return async (fqdn, twinId) => {
    const name = `_zgrid.${fqdn}`;
    const want = `zgrid-twin=${twinId}`;
    const hint = `publish a DNS TXT record ${name} with the value "${want}", then deploy again`;
    const resolver = new Resolver({ timeout: o.timeoutMs ?? 3000, tries: 2 });
    if (o.resolvers && o.resolvers.length > 0) resolver.setServers([...o.resolvers]);
    let records: string[][];
    try {
      records = await resolver.resolveTxt(name);
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      throw new FqdnProofError(`cannot prove control of ${fqdn}: ${code === "ENODATA" || code === "ENOTFOUND" ? `no TXT record ${name}` : `DNS lookup of ${name} failed (${code || String(e)})`}`, {
        details: { fqdn, record: name, expected: want }, hint,
      });
    }
    const values = records.map((r) => r.join("").trim());
    if (!values.includes(want)) {
      throw new FqdnProofError(`cannot prove control of ${fqdn}: TXT ${name} does not name twin ${twinId}`, { details: { fqdn, record: name, expected: want, found: values.slice(0, 5) }, hint });
    }
  };
}
