import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// Tauri serves `dist/` from inside the app: two pages (the main window and the approval
// popup), self-contained, with no inline script or style (the CSP forbids them).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  build: {
    outDir: "dist",
    target: "es2021",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    rollupOptions: { input: { main: "index.html", popup: "popup.html" } },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.ts"],
  },
});
