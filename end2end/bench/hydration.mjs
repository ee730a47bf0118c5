// Hydration on a throttled phone, cold cache: part of the load benchmark
// (`cargo bench -p server --bench load`), which starts the server and calls
//   node end2end/bench/hydration.mjs <base-url> <path> [<cookie>] ...
// with the session cookie a path needs ("-" for none). For each path it
// opens a fresh browser context (nothing cached) in Debian's Chromium with
// the network at 9 Mbit/s down, 60 ms round trip, the CPU 4x slower, and
// prints one line per path:
//   <path> first-contentful-paint <ms> hydrated <ms> transferred <bytes>
// "hydrated" is when lib.rs marks <body data-hydrated=true>; both count from
// the start of the navigation (performance.now() of the page). Runs are repeated (NACHWEIS_HYDRATION_RUNS,
// default 3) and the median is printed.
import { chromium } from 'playwright-core';

const [base, ...rest] = process.argv.slice(2);
if (!base || rest.length === 0 || rest.length % 2 !== 0) {
  console.error('usage: hydration.mjs <base-url> <path> <cookie|-> [<path> <cookie|-> ...]');
  process.exit(2);
}
const runs = Number(process.env.NACHWEIS_HYDRATION_RUNS ?? 3);
const KBIT = 1000 / 8; // bytes per second in one kbit/s

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  for (let i = 0; i < rest.length; i += 2) {
    const [path, cookie] = [rest[i], rest[i + 1]];
    const samples = [];
    for (let r = 0; r < runs; r++) samples.push(await once(path, cookie));
    samples.sort((a, b) => a.hydrated - b.hydrated);
    const m = samples[Math.floor(samples.length / 2)];
    console.log(`${path} first-contentful-paint ${m.fcp.toFixed(0)} hydrated ${m.hydrated.toFixed(0)} transferred ${m.bytes}`);
  }
} finally {
  await browser.close();
}

async function once(path, cookie) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    if (cookie !== '-') {
      const [name, ...value] = cookie.split('=');
      await context.addCookies([{ name, value: value.join('='), url: base }]);
    }
    // Notes the moment lib.rs marks the body, not when this script asks.
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === 'true' && window.__hydratedAt === undefined) {
          window.__hydratedAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 60,
      downloadThroughput: 9000 * KBIT,
      uploadThroughput: 1500 * KBIT,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    let bytes = 0;
    cdp.on('Network.loadingFinished', (e) => {
      bytes += e.encodedDataLength;
    });
    const response = await page.goto(base + path, { waitUntil: 'commit' });
    if (!response || response.status() >= 400) throw new Error(`${path}: HTTP ${response?.status()}`);
    if (new URL(page.url()).pathname !== path) throw new Error(`${path}: redirected to ${page.url()}`);
    await page.locator('body[data-hydrated=true]').waitFor({ state: 'attached', timeout: 60_000 });
    const t = await page.evaluate(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return { fcp: fcp ? fcp.startTime : NaN, hydrated: window.__hydratedAt };
    });
    return { ...t, bytes };
  } finally {
    await context.close();
  }
}
