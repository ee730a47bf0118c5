import { Browser, Page } from '@playwright/test';
import { test, expect } from '../fixtures';

// Every main page of each role, on a 360 px wide phone: nothing scrolls
// sideways (checksums, signer names, URLs and inline forms wrap), and the
// quiz's check boxes stand beside their answers, not in the middle of the
// line. Read-only: the pages are looked at, nothing is changed.

const PASSWORD = 'Nachweis-Demo-2026';
const WIDTH = 360;

const ROLES: { email: string; pages: string[] }[] = [
  {
    email: 'dpo@conrat.example',
    pages: [
      '/', '/massnahmen', '/massnahmen/1', '/massnahmen/neu', '/anlage', '/unterauftragsverarbeiter',
      '/kunden', '/mitglieder', '/organisation', '/verpflichtungen', '/schulungen/kurse',
      '/schulungen/uebersicht', '/pruefungen', '/protokoll', '/postausgang', '/anmeldedienste',
    ],
  },
  { email: 'mitarbeiter@conrat.example', pages: ['/', '/verpflichtung', '/schulungen'] },
  { email: 'kunde@praxis-weber.example', pages: ['/portal'] },
];

async function signedIn(browser: Browser, js: boolean, email: string): Promise<Page> {
  const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: WIDTH, height: 800 } });
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page).not.toHaveURL(/\/login/);
  return page;
}

test('no page scrolls sideways on a 360 px phone', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const wide: string[] = [];
  for (const role of ROLES) {
    const page = await signedIn(browser, js, role.email);
    for (const path of role.pages) {
      const res = await page.goto(path);
      expect(res?.status(), `${role.email} ${path}`).toBe(200);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > WIDTH) wide.push(`${role.email} ${path}: ${width} px`);
    }
    await page.context().close();
  }
  expect(wide).toEqual([]);
});

test('the quiz shows each check box beside its answer', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const page = await signedIn(browser, js, 'mitarbeiter@clickbits.example');
  await page.goto('/schulungen');
  const course = page.getByTestId('course').filter({ hasText: 'Datenschutz-Grundschulung' });
  // Started already when the specs share one server (NACHWEIS_E2E_URL).
  const start = course.getByRole('button', { name: 'Schulung starten' });
  if (await start.count()) await start.click();
  else await course.getByRole('link', { name: 'Fortsetzen' }).click();
  await expect(page).toHaveURL(/\/schulungen\/durchgang\/\d+$/);
  const option = page.getByTestId('question').first().locator('input[type=checkbox], input[type=radio]').first();
  const label = page.locator(`label[for="${await option.getAttribute('id')}"]`);
  const [box, text] = [await option.boundingBox(), await label.boundingBox()];
  expect(box && text).toBeTruthy();
  // The box is small, left of its text, and close to it.
  expect(box!.width).toBeLessThan(30);
  expect(box!.x + box!.width).toBeLessThanOrEqual(text!.x);
  expect(text!.x - (box!.x + box!.width)).toBeLessThan(20);
  await page.context().close();
});
