// Egress addresses are allocated: ids that collided under the old 16-bit hash (one found after
// 13,260 tries) get distinct addresses; allocations survive a restart (a new book on the same
// file) and are freed on release; an exhausted range is a clear error.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EgressAddressBook } from "./egress-addresses.ts";

test("distinct, stable across restarts, released on delete", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "egress-book-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "egress-addresses.json");
  const book = new EgressAddressBook(file);
  // ids sharing their first 4 hex digits: the old hash gave them all the same address
  const ids = Array.from({ length: 2000 }, (_, i) => `abcd${i.toString(16).padStart(4, "0")}`);
  const got = await Promise.all(ids.map((id) => book.allocate(id)));
  assert.equal(new Set(got).size, ids.length, "no two networks share an egress address");
  for (const a of got) assert.match(a, /^100\.127\.([1-9]\d*)\.([1-9]\d*)$/);
  assert.ok(!got.some((a) => a.endsWith(".255") || a.startsWith("100.127.0.")));
  const again = new EgressAddressBook(file);
  assert.equal(await again.allocate(ids[7]!), got[7], "the same address after a restart");
  await again.release(ids[7]!);
  const other = await again.allocate("newcomer");
  assert.equal(other, got[7], "a released address is reused");
  assert.equal(await new EgressAddressBook(file).allocate("newcomer"), other);
});

test("adoption keeps a live network's address when it is free, never one in use", async () => {
  const book = new EgressAddressBook();
  const a = await book.allocate("one");
  assert.equal(await book.allocate("two", "100.127.9.9"), "100.127.9.9");
  assert.notEqual(await book.allocate("three", a), a);
  assert.notEqual(await book.allocate("four", "8.8.8.8"), "8.8.8.8");
});
