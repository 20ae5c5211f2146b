// FQDN ownership through a real DNS server on loopback (dns2): the right record passes, no record,
// another twin's record and a dead resolver are refused with the record to publish.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestDns } from "../../testing/dns-server.ts";
import { FqdnProofError, fqdnProver } from "./fqdn-proof.ts";

test("a TXT record _zgrid.<fqdn> naming the twin proves control; anything else is refused", async (t) => {
  const dns = await startTestDns("127.0.0.1");
  t.after(() => dns.stop());
  dns.txt.set("_zgrid.shop.example.org", ["v=spf1 -all", "zgrid-twin=7"]);
  dns.txt.set("_zgrid.other.example.org", ["zgrid-twin=8"]);
  const prove = fqdnProver({ resolvers: [dns.server], timeoutMs: 1000 });
  await prove("shop.example.org", 7);
  const refused = async (fqdn: string, twin: number, why: RegExp) => {
    await assert.rejects(prove(fqdn, twin), (e: unknown) => {
      assert.ok(e instanceof FqdnProofError);
      assert.match(e.message, why);
      assert.match(e.message, new RegExp(`publish a DNS TXT record _zgrid\\.${fqdn.replace(/\./g, "\\.")} with the value "zgrid-twin=${twin}"`));
      return true;
    });
  };
  await refused("shop.example.org", 9, /TXT _zgrid\.shop\.example\.org does not name twin 9/);
  await refused("other.example.org", 7, /does not name twin 7/);
  await refused("nobody.example.org", 7, /no TXT record _zgrid\.nobody\.example\.org|DNS lookup/);
  assert.ok(dns.asked.includes("_zgrid.shop.example.org"));
  const dead = fqdnProver({ resolvers: ["127.0.0.1:9"], timeoutMs: 300 });
  await assert.rejects(dead("shop.example.org", 7), /cannot prove control of shop\.example\.org/);
});
