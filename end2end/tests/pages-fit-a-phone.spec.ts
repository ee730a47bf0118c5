import { Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { test, expect, hydrated } from '../fixtures';

// Every main page of each role, on phones of 360 and 390 px and a laptop of
// 1366 px: nothing scrolls sideways (checksums, signer names, URLs and
// inline forms wrap), and each page at 390 and 1366 px is kept as a
// screenshot among the test results (test-results/…/screenshots). The
// quiz's check boxes stand beside their answers; the focus ring stands out
// from the page. Read-only: the pages are looked at, nothing is changed.

const PASSWORD = 'Nachweis-Demo-2026';
const WIDTHS = [360, 390, 1366];
const SCREENSHOT_WIDTHS = [390, 1366];

const ROLES: { name: string; email: string; pages: string[] }[] = [
  {
    name: 'dpo',
    email: 'dpo@conrat.example',
    pages: [
      '/', '/massnahmen', '/massnahmen?filter=pruefung-faellig', '/massnahmen?anordnen=1', '/massnahmen/1',
      '/massnahmen/1?bearbeiten=1', '/massnahmen/neu', '/anlage', '/unterauftragsverarbeiter',
      '/kunden', '/mitglieder', '/organisation', '/verpflichtungen', '/schulungen/kurse',
      '/schulungen/uebersicht', '/pruefungen', '/protokoll', '/protokoll?pruefen=1', '/postausgang', '/anmeldedienste',
      '/avv', '/avv?sprache=en',
    ],
  },
  { name: 'owner', email: 'it@conrat.example', pages: ['/', '/massnahmen', '/pruefungen', '/schulungen', '/verpflichtung'] },
  { name: 'auditor', email: 'pruefer@audit.example', pages: ['/', '/massnahmen', '/anlage', '/pruefungen', '/protokoll', '/schulungen/uebersicht', '/verpflichtungen', '/avv'] },
  { name: 'staff', email: 'mitarbeiter@conrat.example', pages: ['/', '/massnahmen', '/verpflichtung', '/schulungen'] },
  { name: 'customer', email: 'kunde@praxis-weber.example', pages: ['/portal'] },
];

async function signedIn(browser: Browser, js: boolean, email: string, width = 360): Promise<Page> {
  const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width, height: 800 } });
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page).not.toHaveURL(/\/login/);
  return page;
}

const fileName = (path: string) => path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-') || 'start';

test('no page scrolls sideways, on a phone or a laptop; each is kept as a screenshot', async ({ browser }, info) => {
  test.setTimeout(240_000);
  const js = info.project.name === 'with-js';
  const wide: string[] = [];
  for (const role of ROLES) {
    for (const width of WIDTHS) {
      const page = await signedIn(browser, js, role.email, width);
      for (const path of role.pages) {
        const res = await page.goto(path);
        expect(res?.status(), `${role.email} ${path}`).toBe(200);
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
        if (scroll > width) wide.push(`${role.email} ${path} at ${width} px: ${scroll} px`);
        if (SCREENSHOT_WIDTHS.includes(width)) {
          await page.screenshot({ path: info.outputPath('screenshots', `${width}`, `${role.name}-${fileName(path)}.png`), fullPage: true });
        }
      }
      await page.context().close();
    }
  }
  expect(wide).toEqual([]);
});

test('the contract and log pages pass axe-core (nothing serious or critical)', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  // axe-core is a script it runs in the page: with JavaScript only.
  test.skip(!js, 'axe-core needs JavaScript in the page');
  const page = await signedIn(browser, js, 'dpo@conrat.example', 1366);
  const found: string[] = [];
  for (const path of ['/avv', '/avv?sprache=en', '/kunden', '/protokoll?pruefen=1']) {
    await page.goto(path);
    if (js) await hydrated(page);
    const results = await new AxeBuilder({ page }).analyze();
    for (const v of results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      found.push(`${path}: ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }
  }
  await page.context().close();
  expect(found).toEqual([]);
});

/** The WCAG contrast ratio of two CSS colours `rgb(r, g, b)`. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the keyboard focus ring stands out from the page (3:1)', async ({ browser }, info) => {
  const page = await signedIn(browser, info.project.name === 'with-js', 'dpo@conrat.example', 1366);
  await page.goto('/massnahmen');
  // Tab until the focus is in the page's content (past the header's links).
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => !!document.activeElement?.closest('main'))) break;
  }
  const ring = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    // The ring stands outside the element (outline-offset): against what surrounds it.
    let bg = 'rgba(0, 0, 0, 0)';
    for (let n: HTMLElement | null = el.parentElement; n && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); n = n.parentElement) {
      bg = getComputedStyle(n).backgroundColor;
    }
    if (/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) bg = getComputedStyle(document.body).backgroundColor;
    return { outline: style.outlineColor, width: style.outlineWidth, style: style.outlineStyle, bg };
  });
  expect(ring.style, JSON.stringify(ring)).not.toBe('none');
  expect(parseFloat(ring.width)).toBeGreaterThanOrEqual(2);
  expect(contrast(ring.outline, ring.bg), JSON.stringify(ring)).toBeGreaterThanOrEqual(3);
  await page.context().close();
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
