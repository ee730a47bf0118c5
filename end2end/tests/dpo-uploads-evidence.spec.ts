import { test, expect, logInAsDpo } from '../fixtures';

const login = logInAsDpo;

/** A real (tiny) PDF, padded so the upload takes a moment. */
function pdf(sizeBytes: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
  const tail = Buffer.from('\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
  const pad = Buffer.alloc(Math.max(0, sizeBytes - head.length - tail.length), 0x25);
  return Buffer.concat([head, pad, tail]);
}

function isoInDays(days: number): string {
  const d = new Date(Date.now() + days * 24 * 3600 * 1000);
  return d.toISOString().slice(0, 10);
}

test('the DPO uploads evidence with a validity date and sees it expiring on the dashboard', async ({ page }, info) => {
  const js = info.project.name === 'with-js';
  await login(page, js);

  // Each project its own measure: JS the Weitergabekontrolle one, no-JS the Eingabekontrolle one.
  await page.getByRole('link', { name: 'Maßnahmen' }).first().click();
  const section = page.getByTestId('category').filter({ has: page.getByRole('heading', { name: js ? '4.1 Weitergabekontrolle' : '4.2 Eingabekontrolle', exact: true }) });
  await section.getByTestId('measure-link').first().click();
  const panel = page.getByTestId('evidence');
  await expect(panel.getByRole('heading', { name: 'Nachweise' })).toBeVisible();

  const title = `Prüfbericht ${info.project.name} ${Date.now()}`;
  await panel.getByText('Nachweis hochladen').click();
  const form = panel.getByTestId('upload-new');
  await form.getByLabel('Titel').fill(title);
  await form.getByLabel('Gültig bis').fill(isoInDays(12));
  await form.getByLabel(/^Datei/).setInputFiles({ name: 'Prüfbericht.pdf', mimeType: 'application/pdf', buffer: pdf(8 * 1024 * 1024) });

  if (js) {
    // Slow the upload down so the progress bar is on screen long enough to be seen.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
    await form.getByRole('button', { name: 'Hochladen' }).click();
    const bar = form.getByTestId('upload-progress').getByRole('progressbar');
    await expect(bar).toBeVisible();
    await expect(form.getByTestId('upload-progress')).toContainText('%');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  } else {
    await form.getByRole('button', { name: 'Hochladen' }).click();
  }

  // The item is listed with its file, its date and its state.
  const item = panel.getByTestId('evidence-item').filter({ hasText: title });
  await expect(item).toBeVisible();
  await expect(item.getByTestId('validity')).toHaveText('läuft bald ab');
  await expect(item.getByRole('link', { name: 'Prüfbericht.pdf' })).toBeVisible();
  await expect(item).toContainText('8,0 MB');

  // The start page lists it among the evidence that is about to expire.
  await page.getByRole('link', { name: 'Start' }).click();
  const expiring = page.getByTestId('expiring');
  await expect(expiring).toContainText(title);
  await expect(expiring.getByRole('listitem').filter({ hasText: title }).getByTestId('validity')).toContainText('läuft bald ab');
});
