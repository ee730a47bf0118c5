import { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { test, expect, hydrated, logIn, DEMO_PASSWORD } from '../fixtures';
import { passBaseCourse } from '../base-course';

// A demo staff member passes the base course (base-course.ts), then reads and
// signs the confidentiality pledge (full name and password), downloads the
// signed copy; the DPO sees it, and the base course, in the overviews. The
// pledge pages pass an axe-core check (with JavaScript: axe runs in the
// page). Each project uses its own organisation.

const ORG = {
  'with-js': { dpo: 'dpo@conrat.example', staff: 'mitarbeiter@conrat.example', name: 'Mia Schulz' },
  'without-js': { dpo: 'dpo@clickbits.example', staff: 'mitarbeiter@clickbits.example', name: 'Tim Wagner' },
};

const login = logIn;

async function noSeriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

test('a staff member signs the confidentiality pledge and the DPO sees it', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const org = ORG[info.project.name as keyof typeof ORG];
  // The base course, a signature and several axe checks: slow on a busy machine.
  test.setTimeout(180_000);
  // The overview below shows the base course as passed: the person passes it first.
  await passBaseCourse(browser, js, org.staff, DEMO_PASSWORD);

  const ctx = await browser.newContext({ javaScriptEnabled: js, acceptDownloads: true });
  const page = await ctx.newPage();
  await login(page, js, org.staff);
  await expect(page.getByRole('heading', { name: new RegExp(`Guten Tag, ${org.name}`) })).toBeVisible();
  // The start page asks for the signature.
  const reminder = page.getByTestId('pledge-reminder');
  await expect(reminder).toBeVisible();
  await reminder.getByRole('link', { name: 'Jetzt lesen und unterschreiben' }).click();
  await expect(page).toHaveURL(/\/verpflichtung$/);
  if (js) await hydrated(page);
  const text = page.getByRole('article', { name: 'Text der Verpflichtung' });
  await expect(text).toContainText('Art. 32 Abs. 4 DSGVO');
  if (js) await noSeriousViolations(page);

  // A wrong password is refused with a clear message; nothing is signed.
  await page.getByLabel('Ich habe den Text vollständig gelesen').check();
  await page.getByLabel('Ihr vollständiger Name').fill(org.name);
  await page.getByLabel('Ihr Kennwort zur Bestätigung').fill('falsches Kennwort');
  await page.getByRole('button', { name: 'Verbindlich unterschreiben' }).click();
  await expect(page.getByText('Das Passwort ist falsch.')).toBeVisible();

  await page.getByLabel('Ich habe den Text vollständig gelesen').check();
  await page.getByLabel('Ihr vollständiger Name').fill(org.name);
  await page.getByLabel('Ihr Kennwort zur Bestätigung').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Verbindlich unterschreiben' }).click();
  await expect(page.getByText(/Sie haben Fassung 1 am .* unterschrieben\./)).toBeVisible();
  if (js) await noSeriousViolations(page);

  // The signed copy downloads as a PDF.
  const link = page.getByRole('link', { name: /Fassung 1, unterschrieben am/ });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(path!).subarray(0, 5).toString()).toBe('%PDF-');
  await ctx.close();

  // The DPO sees the signature in the overview.
  const dpoCtx = await browser.newContext({ javaScriptEnabled: js });
  const dpo = await dpoCtx.newPage();
  await login(dpo, js, org.dpo);
  await expect(dpo.getByRole('heading', { name: /Guten Tag/ })).toBeVisible();
  await dpo.goto('/verpflichtungen');
  const row = dpo.getByRole('row').filter({ hasText: org.name });
  await expect(row).toContainText('verpflichtet');
  await expect(row.getByRole('link', { name: /Fassung 1/ })).toBeVisible();
  await expect(dpo.getByTestId('summary')).toContainText('Mitarbeitenden verpflichtet (Fassung 1)');
  if (js) await noSeriousViolations(dpo);

  // The combined overview: the base course (passed above) and the pledge,
  // with the annex figures.
  await dpo.goto('/schulungen/uebersicht');
  const person = dpo.getByTestId('matrix-row').filter({ hasText: org.name });
  const course = person.getByTestId('course-state');
  await expect(course).toHaveAttribute('data-state', 'done');
  await expect(course).toContainText('geschult');
  const pledge = person.getByTestId('pledge-state');
  await expect(pledge).toHaveAttribute('data-state', 'signed');
  await expect(pledge).toContainText('verpflichtet');
  await expect(dpo.getByTestId('summary')).toContainText(/Stand der Schulungen: \d+ von \d+ Mitarbeitenden geschult\./);
  if (js) await noSeriousViolations(dpo);
  // Search and filter run on the server (a plain GET form): only this person is left.
  await dpo.getByLabel('Name oder E-Mail').fill(org.name);
  await dpo.getByRole('button', { name: 'Anzeigen', exact: true }).click();
  await expect(dpo).toHaveURL(/suche=/);
  await expect(dpo.getByTestId('matrix-row')).toHaveCount(1);
  await expect(dpo.getByTestId('matrix-row')).toContainText(org.name);
  await expect(dpo.getByTestId('matrix-count')).toContainText('1–1 von 1 passenden Personen');
  await dpoCtx.close();
});
