import { test, expect, hydrated } from '../fixtures';

// Runs in the with-js project only (see playwright.config.ts).
test('the DPO imports a checklist, assigns the unmapped part and imports', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('E-Mail-Adresse').fill('dpo@conrat.example');
  await page.getByLabel('Passwort').fill('Nachweis-Demo-2026');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect(page.getByRole('heading', { name: /Guten Tag/ })).toBeVisible();

  await page.goto('/massnahmen/import');
  await hydrated(page);
  const marker = `Browsertest ${Date.now()}`;
  await page.getByLabel('Datei laden (Markdown oder Text)').setInputFiles({
    name: 'tom-checkliste.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(
      `a) Zutrittskontrolle\n- Alarmanlage (${marker})\n\nb) Auftragskontrolle\n- Verträge nach Art. 28 DSGVO (${marker})\n`,
    ),
  });
  await expect(page.getByLabel('Text des Dokuments')).toHaveValue(/Alarmanlage/);
  await page.getByRole('button', { name: 'Zuordnung anzeigen' }).click();

  await expect(page.getByTestId('unmapped-count')).toContainText('1 Abschnitt');
  const unmapped = page.getByTestId('unmapped');
  await expect(unmapped).toContainText('Auftragskontrolle');
  // Importing with the part left open is refused.
  await page.getByRole('button', { name: 'Importieren' }).click();
  await expect(page.getByTestId('import-apply-form').getByRole('alert')).toContainText('noch keiner Kategorie zugeordnet');

  await unmapped.getByRole('combobox').selectOption({ label: '4.1. Weitergabekontrolle' });
  await page.getByRole('button', { name: 'Importieren' }).click();
  await expect(page.getByTestId('import-done')).toContainText('2 Maßnahmen importiert');

  await page.getByRole('link', { name: 'Zum Maßnahmenkatalog' }).click();
  await expect(page.getByText(`Alarmanlage (${marker})`)).toBeVisible();
  await expect(page.getByText(`Verträge nach Art. 28 DSGVO (${marker})`)).toBeVisible();
});
