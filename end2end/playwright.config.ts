import { defineConfig } from '@playwright/test';

// The server is started by scripts/test.sh (fresh data dir with the demo
// data) and its address handed over in NACHWEIS_E2E_URL.
const baseURL = process.env.NACHWEIS_E2E_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    locale: 'de-DE',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'with-js', use: { javaScriptEnabled: true } },
    // The import's mapping preview needs JavaScript (without it the page
    // points to `nachweis tom import`), so its spec runs with JS only.
    { name: 'without-js', use: { javaScriptEnabled: false }, testIgnore: /dpo-imports-document/ },
  ],
});
