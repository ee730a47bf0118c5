import { test, expect, hydrated } from '../fixtures';

// The fixture (fixtures.ts) puts the nachweis binary alone into an empty
// directory and runs `nachweis demo` and `nachweis serve` there: every file the page
// loads comes out of the binary.
test('the one binary serves the site and the page hydrates', async ({ page, request }, info) => {
  const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/nachweis.wasm'), { timeout: 30_000 }).catch(() => null);
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Anmelden', exact: true })).toBeVisible();
  if (info.project.name === 'with-js') {
    await hydrated(page);
    const res = await wasm;
    expect(res, 'the page loaded its WebAssembly').not.toBeNull();
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-type']).toBe('application/wasm');
  }
  // Each file with its type, a strong ETag and a revalidation answer.
  for (const [path, type] of [
    ['/pkg/nachweis.wasm', 'application/wasm'],
    ['/pkg/nachweis.js', 'text/javascript; charset=utf-8'],
    ['/pkg/nachweis.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
  ]) {
    const r = await request.get(path);
    expect(r.status(), path).toBe(200);
    expect(r.headers()['content-type'], path).toBe(type);
    const etag = r.headers()['etag'];
    expect(etag, path).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await request.get(path, { headers: { 'If-None-Match': etag } });
    expect(again.status(), path).toBe(304);
  }
  expect((await request.get('/pkg/gibt-es-nicht.js')).status()).toBe(404);
});
