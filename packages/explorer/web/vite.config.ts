// Builds the dashboard into web/dist (served by the explorer). Preact's JSX through esbuild, no Babel.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 200 },
  logLevel: "warn",
});
