/** See strip-cache.js: a cache of type-stripped sources (a Node load hook) and V8's compile cache. */
export declare function stripCacheDir(env?: NodeJS.ProcessEnv): string;
export declare function installStripCache(dir?: string): { dir: string; hits: number; misses: number } | undefined;
