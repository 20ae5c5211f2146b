/**
 * The dashboard in headless Chromium (Debian's chromium + playwright-core) against a live explorer
 * on the dev chain with real bus peers. Screenshots go to packages/explorer/test-artifacts/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestGrid, testHash, type TestGrid } from "@zgrid/chain/testing";
import { DEFAULT_WEB_DIR, startExplorer, type Explorer } from "./explorer.ts";
import { TestDatabases } from "./testing/db-backends.ts";
import { NodePeers } from "./testing/node-peers.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const GIB = 2 ** 30;
// The test command runs setup, which installs chromium and builds the dashboard: missing either is a failure, not a skip.
const missing = !existsSync(CHROMIUM) ? "chromium is not installed (apt-get install chromium)" : !existsSync(join(DEFAULT_WEB_DIR, "index.html")) ? "the dashboard is not built (scripts/setup.sh)" : undefined;

let grid: TestGrid;
let peers: NodePeers;
let explorer: Explorer;
let browser: Browser;
let page: Page;
const dbs = new TestDatabases();

before(async () => {
  if (missing) throw new Error(`cannot run the dashboard tests: ${missing}`);
  mkdirSync(ARTIFACTS, { recursive: true });
  grid = await startTestGrid();
  peers = new NodePeers(grid.chain);
  await peers.start(grid.chain.twins[1]!.twinId, true);
  await peers.start(grid.chain.twins[2]!.twinId, true);
  const me = await peers.start(grid.chain.twins[4]!.twinId, false);
  await grid.node1.reportUptime(10n, await grid.now());
  await grid.node2.reportUptime(10n, await grid.now());
  explorer = await startExplorer({ db: await dbs.url("sqlite"), rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses, bus: me,
    indexPollMs: 100, livenessIntervalMs: 300, livenessTimeoutMs: 700, windows: { liveWindowMs: 2_500 } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage", "--no-first-run"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});
after(async () => {
  await browser?.close();
  await explorer?.stop();
  await peers?.close();
  await grid?.stop();
  await dbs.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

test("the overview loads and shows both nodes up", async () => {
  await page.goto(explorer.url);
  await page.getByTestId("nodes-up").filter({ hasText: "2" }).waitFor({ timeout: 15_000 });
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Grid overview");
  await shot("overview-light");
  await page.getByRole("button", { name: /switch to dark theme/ }).click();
  // the theme lands on <html> from a React effect, after the click returns: wait for it, then check
  await page.locator("html[data-theme='dark']").waitFor({ state: "attached", timeout: 5_000 }).catch(() => undefined);
  assert.equal(await page.locator("html").getAttribute("data-theme"), "dark");
  await shot("overview-dark");
  await page.getByRole("button", { name: /switch to light theme/ }).click();
});

test("the nodes table filters by country and by free memory", async () => {
  peers.used.set(grid.chain.twins[1]!.twinId, { cru: 2, mru: 8 * GIB, sru: 0, hru: 0 });
  await page.goto(`${explorer.url}/#/nodes`);
  await page.locator("tr[data-node]").nth(1).waitFor();
  await page.getByLabel("Country").fill("BE");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByRole("status").filter({ hasText: /^1 node$/ }).waitFor();
  assert.deepEqual(await page.locator("tr[data-node]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-node"))), [String(grid.nodeId1)]);
  await page.getByRole("button", { name: "Clear" }).click();
  // the cleared page has rendered (its form made again) before the next filter is typed
  await page.getByRole("status").filter({ hasText: /^2 nodes$/ }).waitFor();
  assert.equal(await page.getByLabel("Country").inputValue(), "");
  await page.getByLabel("Free memory GiB ≥").fill("55");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/free_mru=/);
  await page.getByRole("status").filter({ hasText: /^1 node$/ }).waitFor();
  assert.deepEqual(await page.locator("tr[data-node]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-node"))), [String(grid.nodeId2)]);
  await shot("nodes-filtered");
});

test("a node page shows its capacity chart", async () => {
  await new Promise((r) => setTimeout(r, 1_500)); // a few more samples
  await page.goto(`${explorer.url}/#/nodes/${grid.nodeId1}`);
  await page.getByTestId("node-status").filter({ hasText: "up" }).waitFor();
  const canvas = page.locator("figure.chart canvas");
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 200 && box.height > 100, `chart has a size: ${JSON.stringify(box)}`);
  // the plotted series has the samples the liveness checker took
  const samples = (await (await fetch(`${explorer.url}/api/v1/nodes/${grid.nodeId1}/capacity`)).json()) as { items: unknown[] };
  assert.ok(samples.items.length >= 2);
  await page.locator(".u-legend").getByText("memory used (GiB)").waitFor();
  await shot("node-page");
});

test("a contract created during the test shows on its twin's page with a cost per hour", async () => {
  const id = await grid.user.createNodeContract({ nodeId: grid.nodeId1, deploymentHash: testHash(424242), publicIps: 1 });
  await page.goto(`${explorer.url}/#/twins/${grid.chain.twins[3]!.twinId}`);
  await page.locator(`tr[data-contract="${id}"]`).waitFor({ timeout: 15_000 });
  assert.notEqual(await page.getByTestId("cost-per-hour").textContent(), "$0.0000");
  await shot("twin-contracts");
});

test("the overview updates live when a node goes down", async () => {
  await page.goto(explorer.url);
  await page.getByTestId("nodes-up").filter({ hasText: "2" }).waitFor({ timeout: 15_000 });
  const navigations: string[] = [];
  page.on("framenavigated", (f) => navigations.push(f.url()));
  await peers.stop(grid.chain.twins[2]!.twinId);
  await page.getByTestId("nodes-down").filter({ hasText: "1" }).waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId("nodes-up").textContent(), "1");
  assert.deepEqual(navigations, [], "no reload: the page updated itself");
  await shot("overview-node-down");
});
