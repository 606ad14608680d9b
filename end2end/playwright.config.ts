import { defineConfig } from "@playwright/test";
import * as path from "node:path";

// The server under test: built by scripts/test.sh, started here on its own port with a fresh
// data directory (scripts/test.sh removes it before each run).
const root = path.resolve(__dirname, "..");
const serverBin = process.env.EA_SERVER_BIN ?? path.join(root, "target/debug/server");
const simBin = process.env.EA_SIM_BIN ?? path.join(path.dirname(serverBin), "defender-sim");
const port = Number(process.env.EA_E2E_PORT ?? 3100);
export const simPort = Number(process.env.EA_E2E_SIM_PORT ?? 3190);
export const adminPassword = "e2e-admin-password";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
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
  },
  webServer: [
    {
      command:
        `"${serverBin}" --listen 127.0.0.1:${port} --data-dir "${path.join(__dirname, ".data")}" ` +
        `--site-root "${path.join(root, "target/site")}" --admin-password ${adminPassword} ` +
        // Status checks every second, so a test sees Pending, InProgress and the end.
        `--action-poll-secs 1`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // The Defender simulator as the demo tenant the tests configure.
      // Actions take seconds rather than the demo's minutes: 3 s Pending, 3 s InProgress, and a
      // device that never picks an action up times out after 5 s.
      command:
        // RUST_LOG=warn: the simulator's per-request debug lines would bury the test output.
        `RUST_LOG=warn "${simBin}" --listen 127.0.0.1:${simPort} --seed 42 --machines 200 ` +
        `--action-pickup-ms 3000 --action-complete-ms 3000 --action-timeout-ms 5000`,
      url: `http://127.0.0.1:${simPort}/_sim/state`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
