import { defineConfig } from "vite";

// Tauri serves `dist/` from inside the app; keep the output self-contained and the
// bundle readable by WebKitGTK.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    target: "es2021",
    emptyOutDir: true,
  },
});
