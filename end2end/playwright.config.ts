import { defineConfig } from '@playwright/test';

// Every spec file gets a server of its own with fresh demo data, per
// project (fixtures.ts; the binary is named in NACHWEIS_E2E_BINARY), so the
// files run in parallel, in any order, and each one alone.

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // Files in parallel, each file's tests in order in one worker.
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    // Elements the tests cannot find by role, label or text carry data-test="…".
    testIdAttribute: 'data-test',
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
