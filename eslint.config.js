// Lint config for every package: typescript-eslint's recommended rules, type-aware where cheap.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Package boundaries: another package is imported by its name and only through the entry points its
// package.json `exports` lists (each documented in its README); never by a path into its files.
const PACKAGES = "bus|chain|cli|client|flist|log|types|zos";
const PUBLIC_SUBPATHS = ["chain/client", "chain/testing", "types/testing", "bus/testing", "zos/hypervisor", "zos/testing"];
const deepImport = {
  regex: `^@zgrid/(?!(?:${PUBLIC_SUBPATHS.join("|")})$)[^/]+/`,
  message: "import another package through its entry point (`@zgrid/x` or a subpath its package.json exports), not its internals",
};
const crossPackagePath = {
  regex: `^(?:\\.\\./)+(?:packages/)?(?:${PACKAGES})/(?:src|bin)/`,
  message: "import another package by its name (`@zgrid/x`), not by a relative path into it",
};
// Test fixtures never reach production code.
const testingImport = {
  regex: "^@zgrid/[^/]+/testing$|(?:^|/)(?:testing/|test-fixtures\\.ts$|[a-z-]*fixture\\.ts$)",
  message: "test fixtures are for tests: move what production code needs into a real module",
};
const TEST_FILES = ["**/*.test.ts", "**/testing/**", "**/*fixture*.ts", "**/test-*.ts", "packages/*/scripts/**"];

export default tseslint.config(
  { ignores: ["**/node_modules/**", ".tools/**", ".data/**", "**/generated/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", AbortController: "readonly", AbortSignal: "readonly", fetch: "readonly", performance: "readonly", queueMicrotask: "readonly", structuredClone: "readonly", setImmediate: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["packages/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [deepImport, crossPackagePath] }] },
  },
  {
    files: ["packages/*/src/**/*.ts", "packages/*/bin/**/*.ts"],
    ignores: TEST_FILES,
    rules: { "no-restricted-imports": ["error", { patterns: [deepImport, crossPackagePath, testingImport] }] },
  },
);
