// @ts-check
// `node --import=<this file> entry.ts`: the stripped-source cache (strip-cache.js) for the whole
// process, entry file included, so a process whose sources are all cached never loads Node's
// TypeScript stripper. zosd runs with it (ZOSD_NODE_FLAGS).
import { installStripCache } from "./strip-cache.js";

installStripCache();
