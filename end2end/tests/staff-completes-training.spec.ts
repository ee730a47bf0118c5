import { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import { test, expect, hydrated } from '../fixtures';
import { answerKey } from '../base-course';

// A demo staff member completes the base course "Datenschutz-Grundschulung"
// including its quiz and downloads the certificate. (staff-signs-pledge.spec.ts
// has its staff member pass the course on its own, with base-course.ts.)
// Each project uses its own organisation.

const PASSWORD = 'Nachweis-Demo-2026';
const ORG = {
  'with-js': { staff: 'mitarbeiter@conrat.example', name: 'Mia Schulz' },
  'without-js': { staff: 'mitarbeiter@clickbits.example', name: 'Tim Wagner' },
};

async function noSeriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

test('a staff member completes the base course with its quiz and gets the certificate', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const org = ORG[info.project.name as keyof typeof ORG];
  const key = answerKey();
  expect(key.size).toBeGreaterThanOrEqual(12);

  const ctx = await browser.newContext({ javaScriptEnabled: js, acceptDownloads: true });
  const page = await ctx.newPage();
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('E-Mail-Adresse').fill(org.staff);
  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page.getByRole('heading', { name: new RegExp(`Guten Tag, ${org.name}`) })).toBeVisible();
  const open = page.getByTestId('open-trainings');
  await expect(open).toContainText('Datenschutz-Grundschulung');
  await open.getByRole('link', { name: 'Zu den Schulungen' }).click();
  await expect(page).toHaveURL(/\/schulungen$/);
  if (js) {
    await hydrated(page);
    await noSeriousViolations(page);
  }

  const course = page.getByTestId('course').filter({ hasText: 'Datenschutz-Grundschulung' });
  await course.getByRole('button', { name: 'Schulung starten' }).click();
  // With and without JavaScript the server leads straight to the attempt.
  await expect(page).toHaveURL(/\/schulungen\/durchgang\/\d+$/);
  await expect(page.getByRole('article', { name: 'Inhalt der Schulung' })).toContainText('Art. 5 DSGVO');

  // Pause after the first question, come back, finish.
  const questions = page.getByTestId('question');
  await expect(questions).toHaveCount(key.size);
  const answer = async (i: number) => {
    const q = questions.nth(i);
    const legend = (await q.getByTestId('question-text').innerText()).replace(/^\d+\.\s*/, '');
    const right = key.get(legend);
    expect(right, legend).toBeDefined();
    for (const text of right!) await q.getByLabel(text, { exact: true }).check();
  };
  await answer(0);
  await page.getByRole('button', { name: 'Zwischenspeichern und später weitermachen' }).click();
  await expect(page.getByText('Ihre Antworten sind gespeichert.')).toBeVisible();
  if (js) await noSeriousViolations(page);
  for (let i = 1; i < key.size; i++) await answer(i);
  await page.getByRole('button', { name: 'Test abgeben' }).click();

  const result = page.getByTestId('result');
  await expect(result.getByRole('heading', { name: 'Bestanden' })).toBeVisible();
  await expect(result).toContainText(`${key.size} von ${key.size} Fragen richtig.`);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    result.getByRole('link', { name: 'Teilnahmebescheinigung herunterladen (PDF)' }).click(),
  ]);
  expect(readFileSync((await download.path())!).subarray(0, 5).toString()).toBe('%PDF-');
  await ctx.close();
});
