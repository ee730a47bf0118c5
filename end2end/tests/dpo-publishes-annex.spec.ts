import { test, expect, hydrated } from '../fixtures';

// Each project publishes for its own demo organisation, so the runs do not
// see each other's versions.
const DPO = {
  'with-js': { email: 'dpo@clickbits.example', name: 'Sven Krüger' },
  'without-js': { email: 'dpo@conrat.example', name: 'Katrin Vogel' },
};

test('the DPO publishes a signed annex version and downloads it', async ({ page }, info) => {
  const js = info.project.name === 'with-js';
  const dpo = DPO[info.project.name as keyof typeof DPO];
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('E-Mail-Adresse').fill(dpo.email);
  await page.getByLabel('Passwort').fill('Nachweis-Demo-2026');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page.getByRole('heading', { name: new RegExp(`Guten Tag, ${dpo.name}`) })).toBeVisible();

  await page.getByRole('link', { name: 'Anlage', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Noch keine Version veröffentlicht' })).toBeVisible();
  // No certificate is configured in the test run: the page says what customers will see.
  await expect(page.getByRole('note')).toContainText('nicht vertrauenswürdig');

  await page.getByRole('button', { name: 'Neue Version veröffentlichen' }).click();
  const row = page.getByTestId('publication').first();
  await expect(row).toContainText('1');
  await expect(row).toContainText(dpo.email);
  await expect(row).toContainText('selbst ausgestellt');
  await expect(page.getByRole('status').filter({ hasText: 'wurde veröffentlicht' })).toContainText('Version 1');

  // Nothing changed since: publishing again is not offered.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Änderungen seit Version 1' })).toBeVisible();
  await expect(page.getByTestId('change-summary')).toContainText('Keine Änderungen');
  await expect(page.getByRole('button', { name: 'Neue Version veröffentlichen' })).toBeDisabled();

  // The checksum copies with one click where scripts run; without them the
  // button is not offered (the value selects with one click).
  const copy = row.getByRole('button', { name: 'Prüfsumme kopieren' });
  if (js) {
    await hydrated(page);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await copy.click();
    await expect(row.getByRole('status')).toHaveText('Kopiert');
    const sha = (await row.locator('code.hash').textContent())!.trim();
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sha);
  } else {
    await expect(copy).toBeHidden();
    // Nor is its live region: an empty status only the stylesheet hides.
    await expect(row.locator('[role="status"]')).toHaveCount(0);
  }

  // The download is the signed PDF.
  const href = await row.getByRole('link', { name: 'Herunterladen' }).getAttribute('href');
  expect(href).toBe('/anlage/v1.pdf');
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/pdf');
  const body = await res.body();
  expect(body.subarray(0, 5).toString()).toBe('%PDF-');
  expect(body.includes('ETSI.CAdES.detached')).toBeTruthy();
});
