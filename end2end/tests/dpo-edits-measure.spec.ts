import { test, expect, hydrated, logInAsDpo } from '../fixtures';

const DPO = { email: 'dpo@conrat.example', password: 'Nachweis-Demo-2026' };

const login = logInAsDpo;

test('the DPO edits a measure, sees it in the history, and logs out', async ({ page }, info) => {
  const js = info.project.name === 'with-js';
  await login(page, js);

  await page.getByRole('link', { name: 'Maßnahmen' }).first().click();
  await expect(page.getByRole('heading', { name: '3.1 Zutrittskontrolle' })).toBeVisible();

  // Each run edits its own measure: JS the Pseudonymisierung one, no-JS the Verschlüsselung one.
  const section = page.getByTestId('category').filter({ has: page.getByRole('heading', { name: js ? '1 Pseudonymisierung' : '2 Verschlüsselung', exact: true }) });
  await section.getByTestId('measure-link').first().click();
  await expect(page.getByRole('heading', { name: 'Verlauf' })).toBeVisible();

  // The page reads; editing is a step of its own (the text stands once).
  await page.getByTestId('edit').click();
  const marker = `Geprüft im Browsertest ${info.project.name} ${Date.now()}.`;
  const body = page.getByLabel('Beschreibung der Maßnahme');
  const old = await body.inputValue();
  await body.fill(`${old}\n\n${marker}`);
  await page.getByRole('button', { name: 'Speichern' }).click();

  // The new text is shown, and the history names the change with old and new text.
  await expect(page.getByTestId('measure-body')).toContainText(marker);
  const latest = page.getByTestId('revision').first();
  await expect(latest).toContainText('Version 2');
  await expect(latest).toContainText('Katrin Vogel');
  await expect(latest).toContainText('Text geändert');
  await latest.getByText('Text vorher und nachher').click();
  await expect(latest.getByTestId('diff-new')).toContainText(marker);
  await expect(latest.getByTestId('diff-old')).not.toContainText(marker);

  // It survives a reload (it was stored, not just shown).
  await page.reload();
  await expect(page.getByTestId('measure-body')).toContainText(marker);

  await page.getByRole('button', { name: 'Abmelden' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/massnahmen');
  await expect(page).toHaveURL(/\/login/);
});

test('a wrong password is refused with a clear message', async ({ page }, info) => {
  await page.goto('/login');
  if (info.project.name === 'with-js') await hydrated(page);
  await page.getByLabel('E-Mail-Adresse').fill(DPO.email);
  await page.getByLabel('Passwort').fill('falsches Passwort');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page.getByRole('alert')).toContainText('Anmeldung fehlgeschlagen');
});

test('retiring a measure asks first and says what happens', async ({ page }, info) => {
  const js = info.project.name === 'with-js';
  await login(page, js);
  await page.getByRole('link', { name: 'Maßnahmen' }).first().click();
  // Each run retires its own measure: JS the first of 3.1, no-JS the first of 3.2.
  const section = page.getByTestId('category').filter({ has: page.getByRole('heading', { name: js ? '3.1 Zutrittskontrolle' : '3.2 Zugangskontrolle', exact: true }) });
  await section.getByTestId('measure-link').first().click();
  await expect(page.getByRole('heading', { name: 'Verlauf' })).toBeVisible();

  // One click only opens the question; nothing is retired yet.
  const confirm = page.getByRole('button', { name: 'Ja, außer Kraft setzen' });
  await expect(confirm).toBeHidden();
  await page.getByText('Außer Kraft setzen …').click();
  await expect(page.getByText('erscheint aber ab der nächsten veröffentlichten Version nicht mehr in der Anlage')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('measure-status')).not.toHaveText('außer Kraft');

  await page.getByText('Außer Kraft setzen …').click();
  await page.getByRole('button', { name: 'Ja, außer Kraft setzen' }).click();
  await expect(page.getByTestId('measure-status')).toHaveText('außer Kraft');
  await expect(page.getByText('Außer Kraft setzen …')).toHaveCount(0);
});
