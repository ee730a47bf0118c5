import { request as playwrightRequest, APIRequestContext, Page } from '@playwright/test';
import { test, expect, hydrated, logIn, DEMO_PASSWORD } from '../fixtures';
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The whole AVV concluded in the portal: the DPO enters a new customer's
// particulars and offers the contract; the customer's employee signs in at
// their company's identity provider (a real `oidc-provider` process), reads
// the contract and accepts it with a fresh login there; both download the
// concluded PDF (the same bytes, a valid signature over the whole file).

const ORG = {
  'with-js': { short: 'clickbits', dpo: 'dpo@clickbits.example', user: 'kunde@beispiel-kunde.example', name: 'Karla Kunde', password: 'kunde-passwort', domain: 'beispiel-kunde.example' },
  'without-js': { short: 'conrat', dpo: 'dpo@conrat.example', user: 'kunde@zweiter-kunde.example', name: 'Zacharias Zweiter', password: 'zweiter-passwort', domain: 'zweiter-kunde.example' },
};

let idp: ChildProcess;
let issuer: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test.beforeAll(async ({ baseURL }) => {
  const port = await freePort();
  idp = spawn('node', ['peers/oidc-provider.mjs', '--port', String(port), '--redirect', `${baseURL}/sso/callback`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('OIDC provider did not start')), 20_000);
    idp.stdout!.on('data', (chunk: Buffer) => {
      const m = chunk.toString().match(/READY (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
});

test.afterAll(() => {
  idp?.kill();
});

async function call(api: APIRequestContext, endpoint: string, form: Record<string, string>) {
  const res = await api.post(`/api/${endpoint}`, { form, headers: { Accept: 'application/json' } });
  expect(res.ok(), `${endpoint}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res;
}

function checkSigned(pdf: Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'nachweis-e2e-avv-'));
  const file = join(dir, 'avv.pdf');
  writeFileSync(file, pdf);
  let out = '';
  try {
    out = execFileSync('pdfsig', [file], { encoding: 'utf8' });
  } catch (e) {
    // pdfsig exits non-zero for an untrusted (self-signed) signer; the signature itself must still be valid.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  expect(out).toContain('Signature Validation: Signature is Valid.');
  expect(out).toContain('Total document signed');
  return execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
}

async function concludedPdf(page: Page): Promise<Buffer> {
  const link = page.getByRole('link', { name: 'Geschlossenen Vertrag herunterladen (PDF)' }).first();
  const href = await link.getAttribute('href');
  expect(href).toMatch(/^\/avv-abschluss\/\d+\/vertrag\.pdf$/);
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/pdf');
  return Buffer.from(await res.body());
}

test('the DPO offers the AVV, the customer accepts it with a fresh SSO login, both download it', async ({ page, browser, baseURL }, info) => {
  const js = info.project.name === 'with-js';
  const org = ORG[info.project.name as keyof typeof ORG];
  const customerName = `Beispiel Kunde AG (${info.project.name})`;
  const providerName = `Beispiel Kunde AG (${org.short})`;

  // What the contract refers to, through the server functions the pages use:
  // the customer with its provider, the contract text, Anlage 1 and Anlage 2.
  const api = await playwrightRequest.newContext({ baseURL });
  await call(api, 'auth/login', { email: org.dpo, password: DEMO_PASSWORD });
  const customer = await (await call(api, 'customers/add', { name: customerName })).text();
  await call(api, 'sso/providers/add', {
    customer,
    name: providerName,
    issuer_url: issuer,
    client_id: 'nachweis',
    client_secret: 'nachweis-secret',
    allowed_domains: org.domain,
  });
  const texts = await (await call(api, 'avv/texts', {})).json();
  const de = texts.languages.find((l: { locale: string }) => l.locale === 'de');
  await call(api, 'avv/save', { locale: 'de', title: de.draft_title, body: de.draft_body });
  await api.post('/api/annex/publish', { form: {}, headers: { Accept: 'application/json' } });
  await api.post('/api/subprocessors/anlage2/publish', { form: {}, headers: { Accept: 'application/json' } });
  await api.dispose();

  // The DPO enters the particulars on the customer's card, in the browser.
  const dpoContext = await browser.newContext({ javaScriptEnabled: js, baseURL });
  const dpo = await dpoContext.newPage();
  await logIn(dpo, js, org.dpo);
  await expect(dpo.getByRole('heading', { name: /Guten Tag/ })).toBeVisible();
  await dpo.goto(`/kunden#kunde-${customer}`);
  if (js) await hydrated(dpo);
  const card = dpo.locator(`#kunde-${customer}`);
  await expect(card.getByTestId('particulars-missing')).toBeVisible();
  const particulars: Record<string, string> = {
    'Gegenstand und Dauer der Verarbeitung': 'Betrieb der Kundenplattform für die Laufzeit des Hauptvertrags.',
    'Art und Zweck der Verarbeitung': 'Hosting, Sicherung und Wartung.',
    'Arten personenbezogener Daten': 'Kontakt- und Vertragsdaten.',
    'Kategorien betroffener Personen': 'Kunden des Verantwortlichen.',
    'Erfasste Leistungen': 'Hosting-Paket „Business“.',
    'Weisungsberechtigte Personen des Verantwortlichen': `${org.name}, Geschäftsführung`,
    'Datenschutzbeauftragte(r) des Verantwortlichen': 'nicht benannt',
    'Frist für Meldungen von Datenschutzverletzungen': 'unverzüglich, spätestens 24 Stunden',
  };
  for (const [label, value] of Object.entries(particulars)) {
    await card.getByLabel(label, { exact: true }).fill(value);
  }
  await card.getByRole('button', { name: 'Angaben speichern' }).click();
  await expect(dpo.locator(`#kunde-${customer}`).getByTestId('particulars-complete')).toBeVisible();

  // … and offers the contract.
  await dpo.locator(`#kunde-${customer}`).getByRole('link', { name: 'Zum AVV-Abschluss' }).click();
  await expect(dpo.getByRole('heading', { name: 'AVV-Abschluss mit Ihren Kunden' })).toBeVisible();
  if (js) await hydrated(dpo);
  const row = dpo.locator(`#kunde-${customer}`);
  await expect(row.getByTestId('contract-standing')).toHaveText('nicht angeboten');
  await row.getByRole('button', { name: 'AVV anbieten' }).click();
  await expect(dpo.getByText('Angeboten – Angebot 1.', { exact: false })).toBeVisible();
  await expect(dpo.locator(`#kunde-${customer}`).getByTestId('contract-standing')).toHaveText('angeboten');

  // The customer's employee signs in at their company's provider.
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('Geschäftliche E-Mail für Single Sign-on').fill(org.user);
  await page.getByRole('button', { name: 'Weiter mit Single Sign-on' }).click();
  await page.getByRole('link', { name: `Weiter mit ${providerName}` }).click();
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await page.getByLabel('Password').fill(org.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/portal$/);
  if (js) await hydrated(page);

  // "AVV zur Annahme": the full text, the particulars, the sealed document.
  const panel = page.getByTestId('portal-contract');
  await expect(panel.getByRole('heading', { name: 'AVV zur Annahme' })).toBeVisible();
  await expect(panel.getByText('Betrieb der Kundenplattform für die Laufzeit des Hauptvertrags.')).toBeVisible();
  await expect(panel.getByRole('link', { name: 'Vollständiges Dokument lesen (PDF)' })).toBeVisible();
  const offered = (await panel.getByTestId('offer-sha256').textContent())!.replace('SHA-256 ', '').trim();
  expect(offered).toMatch(/^[0-9a-f]{64}$/);

  await panel.getByRole('checkbox').check();
  await panel.getByLabel('Ihr vollständiger Name').fill(org.name);
  await panel.getByLabel('Ihre Funktion beim Verantwortlichen').fill('Geschäftsführerin');
  await panel.getByRole('button', { name: 'Mit Anmeldung bestätigen und annehmen' }).click();
  // The form leads to a page with the link to the provider (a form may only
  // redirect within this site: CSP form-action 'self').
  await page.getByRole('link', { name: 'Weiter zur Anmeldung' }).click();

  // A fresh login at the provider (it asks for the password again).
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await expect(page.getByLabel('E-mail')).toHaveValue(org.user);
  await page.getByLabel('Password').fill(org.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back in the portal: concluded.
  await expect(page).toHaveURL(/\/portal\?avv=angenommen/);
  await expect(page.getByText('Angenommen – der Vertrag ist geschlossen.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Ihr Vertrag zur Auftragsverarbeitung' })).toBeVisible();
  const customerCopy = await concludedPdf(page);
  const text = checkSigned(customerCopy).split(/\s+/).join(' ');
  expect(text).toContain('Betrieb der Kundenplattform');
  expect(text).toContain('Abschlussprotokoll');
  expect(text).toContain(offered);
  expect(text).toContain(org.name);
  expect(text).toContain('Geschäftsführerin');
  expect(text).toContain(`erneute Anmeldung bei ${providerName}`);

  // The DPO sees it concluded and downloads the same document.
  await dpo.goto(`/avv-abschluss#kunde-${customer}`);
  const done = dpo.locator(`#kunde-${customer}`);
  await expect(done.getByTestId('contract-standing')).toHaveText('abgeschlossen');
  await expect(done.getByTestId('contract-concluded')).toContainText(`von ${org.name} (Geschäftsführerin)`);
  const dpoCopy = await concludedPdf(dpo);
  expect(dpoCopy.equals(customerCopy)).toBeTruthy();
  await dpoContext.close();
});
