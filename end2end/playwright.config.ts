// Playwright against a running Headroom (scripts/test starts the release build and passes
// its address in HEADROOM_E2E_URL). Chromium is Debian's: nothing is downloaded.
import { defineConfig } from "@playwright/test";

const baseURL = process.env.HEADROOM_E2E_URL ?? "http://127.0.0.1:3000";

const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: { baseURL, ...chromium, trace: "retain-on-failure" },
  projects: [
    {
      // What a visitor gets before (or without) the WebAssembly: plain server-rendered HTML.
      name: "ssr",
      testIgnore: /\.hydrate\.spec\.ts$/,
      use: { javaScriptEnabled: false },
    },
    {
      // Behaviour that needs the hydrated islands.
      name: "hydrate",
      testMatch: /\.hydrate\.spec\.ts$/,
    },
  ],
});
