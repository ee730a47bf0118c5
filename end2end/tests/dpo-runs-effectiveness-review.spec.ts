import { Page, Browser } from '@playwright/test';
import { test, expect, hydrated as hydratedPage } from '../fixtures';
import AxeBuilder from '@axe-core/playwright';

// The annual effectiveness review (Art. 32(1)(d) GDPR) at clickbits: the DPO
// opens a cycle over one measure, its owner assesses it with a new evidence
// upload and a finding, the DPO returns it once, the owner resubmits, the
// DPO approves, closes the cycle and downloads the signed report. Each
// project runs against a server of its own (fixtures.ts).

const PASSWORD = 'Nachweis-Demo-2026';
const DPO = { email: 'dpo@clickbits.example', name: 'Sven Krüger' };
const OWNER = { email: 'it@clickbits.example', name: 'Aylin Demir' };

async function signedIn(browser: Browser, js: boolean, who: { email: string; name: string }): Promise<Page> {
  const ctx = await browser.newContext({ javaScriptEnabled: js, acceptDownloads: true });
  const page = await ctx.newPage();
  await page.goto('/login');
  if (js) await hydratedPage(page);
  await page.getByLabel('E-Mail-Adresse').fill(who.email);
  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page.getByRole('heading', { name: new RegExp(`Guten Tag, ${who.name}`) })).toBeVisible();
  return page;
}

async function hydrated(page: Page, js: boolean) {
  if (js) await hydratedPage(page);
}

async function noSeriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

function isoInDays(days: number): string {
  return new Date(Date.now() + days * 24 * 3600 * 1000).toISOString().slice(0, 10);
}

function pdf(): Buffer {
  return Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
}

test('the DPO runs an effectiveness review: open, assess, return, approve, close, report', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const title = `Wirksamkeitsprüfung 2026 (${info.project.name} ${Date.now()})`;

  // The DPO opens a cycle over one Zutrittskontrolle measure.
  const dpo = await signedIn(browser, js, DPO);
  await dpo.getByRole('link', { name: 'Prüfungen', exact: true }).click();
  await expect(dpo.getByRole('heading', { name: 'Wirksamkeitsprüfungen', exact: true })).toBeVisible();
  await hydrated(dpo, js);
  await dpo.getByLabel('Titel').fill(title);
  await dpo.getByLabel('Fällig bis').fill(isoInDays(30));
  await dpo.getByLabel('Nur die unten ausgewählten Maßnahmen').check();
  await dpo.getByText('Maßnahmen auswählen').click();
  const access = dpo.getByRole('group', { name: 'Zutrittskontrolle' });
  await access.getByRole('checkbox').first().check();
  await dpo.getByRole('button', { name: 'Prüfzyklus eröffnen' }).click();
  await expect(dpo.getByRole('heading', { name: title })).toBeVisible();
  await expect(dpo.getByRole('status').filter({ hasText: 'Der Prüfzyklus ist eröffnet' })).toBeVisible();
  await expect(dpo.getByTestId('cycle-status')).toContainText('0 von 1 Bewertungen freigegeben');
  const cycleUrl = dpo.url();
  if (js) await noSeriousViolations(dpo);

  // The owner finds it on the start page and uploads new evidence first.
  const owner = await signedIn(browser, js, OWNER);
  const todo = owner.getByTestId('my-reviews');
  await expect(todo).toBeVisible();
  await todo.getByRole('link').first().click();
  await expect(owner.getByTestId('item-state')).toContainText('offen');
  await hydrated(owner, js);
  const itemUrl = owner.url();
  const evidenceTitle = `Zutrittsprotokoll Q3 (${info.project.name})`;
  const panel = owner.getByTestId('evidence');
  await panel.getByText('Nachweis hochladen').click();
  const upload = panel.getByTestId('upload-new');
  await upload.getByLabel('Titel').fill(evidenceTitle);
  await upload.getByLabel(/^Datei/).setInputFiles({ name: 'Zutrittsprotokoll.pdf', mimeType: 'application/pdf', buffer: pdf() });
  await upload.getByRole('button', { name: 'Hochladen' }).click();
  if (!js) {
    // Without JavaScript the upload returns to the measure page.
    await expect(owner.getByTestId('evidence-item').filter({ hasText: evidenceTitle })).toBeVisible();
    await owner.goto(itemUrl);
  }

  // The assessment: partially effective, with the new evidence and a finding.
  const form = owner.getByTestId('assess-form');
  await expect(form.getByLabel(evidenceTitle)).toBeVisible();
  await form.getByLabel('teilweise wirksam').check();
  await form.getByLabel('Was wurde wie geprüft?').fill('Zutrittsprotokoll des dritten Quartals gegen die Liste der Berechtigten abgeglichen.');
  await form.getByLabel('Begründung des Ergebnisses').fill('Eine Karte einer ausgeschiedenen Person war noch aktiv.');
  await form.getByLabel('Ja', { exact: true }).check();
  await form.getByLabel(evidenceTitle).check();
  await form.getByText('Feststellung mit Korrekturmaßnahme hinzufügen').click();
  await form.getByLabel('Feststellung', { exact: true }).fill('Chipkarte nach Austritt nicht gesperrt.');
  await form.getByLabel('Korrekturmaßnahme', { exact: true }).fill('Sperrung der Chipkarte in die Austritts-Checkliste aufnehmen.');
  await form.getByLabel('Verantwortlich').selectOption({ label: OWNER.name });
  await form.getByLabel('Frist').fill(isoInDays(14));
  await form.getByRole('button', { name: 'Zur Freigabe einreichen' }).click();
  await expect(owner.getByRole('status').filter({ hasText: 'zur Freigabe eingereicht' })).toBeVisible();
  await expect(owner.getByTestId('item-state')).toContainText('in Prüfung');
  await expect(owner.getByTestId('findings')).toContainText('Sperrung der Chipkarte in die Austritts-Checkliste aufnehmen.');

  // The DPO returns it once, with a comment.
  await dpo.goto(itemUrl);
  await hydrated(dpo, js);
  await expect(dpo.getByTestId('assessment')).toContainText('teilweise wirksam');
  await expect(dpo.getByTestId('assessment')).toContainText(evidenceTitle);
  await dpo.getByLabel('Kommentar zur Rückgabe').fill('Bitte angeben, wie viele Zutritte geprüft wurden.');
  await dpo.getByRole('button', { name: 'Zur Überarbeitung zurückgeben' }).click();
  await expect(dpo.getByTestId('item-state')).toContainText('zurückgegeben');

  // The owner revises and resubmits.
  await owner.goto(itemUrl);
  await hydrated(owner, js);
  await expect(owner.getByTestId('returned')).toContainText('Bitte angeben, wie viele Zutritte geprüft wurden.');
  const again = owner.getByTestId('assess-form');
  await again.getByLabel('Was wurde wie geprüft?').fill('Alle 214 Zutritte des dritten Quartals gegen die Liste der Berechtigten abgeglichen.');
  await again.getByRole('button', { name: 'Zur Freigabe einreichen' }).click();
  await expect(owner.getByTestId('item-state')).toContainText('in Prüfung');

  // The DPO approves, closes the cycle and downloads the signed report.
  await dpo.goto(itemUrl);
  await hydrated(dpo, js);
  await expect(dpo.getByTestId('assessment')).toContainText('Alle 214 Zutritte');
  await dpo.getByRole('button', { name: 'Freigeben' }).click();
  await expect(dpo.getByTestId('item-state')).toContainText('freigegeben');
  if (js) await noSeriousViolations(dpo);
  await dpo.goto(cycleUrl);
  await hydrated(dpo, js);
  await expect(dpo.getByTestId('cycle-status')).toContainText('1 von 1 Bewertungen freigegeben');
  await dpo.getByLabel('Abschlussvermerk (optional)').fill('Prüfung ohne weitere Auffälligkeiten abgeschlossen.');
  await dpo.getByRole('button', { name: 'Prüfzyklus abschließen' }).click();
  await expect(dpo.getByTestId('cycle-status')).toContainText('Abgeschlossen und gesperrt');
  const link = dpo.getByRole('link', { name: 'Prüfbericht herunterladen (signiertes PDF)' });
  const [download] = await Promise.all([dpo.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^Pruefbericht-\d+-final\.pdf$/);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  expect(body.subarray(0, 5).toString()).toBe('%PDF-');
  expect(body.includes('ETSI.CAdES.detached')).toBeTruthy();

  // Locked: the owner can no longer change anything.
  await owner.goto(itemUrl);
  await expect(owner.getByTestId('item-state')).toContainText('abgeschlossen und gesperrt');
  await expect(owner.getByRole('button', { name: 'Zur Freigabe einreichen' })).toHaveCount(0);
});
