import { test, expect, logInAsDpo } from '../fixtures';

const login = logInAsDpo;

test('the start page counts lead to the catalogue filtered to exactly those measures', async ({ page }, info) => {
  await login(page, info.project.name === 'with-js');
  for (const [panel, filter] of [['no-evidence', 'ohne-nachweis'], ['reviews-due', 'pruefung-faellig']]) {
    await page.goto('/');
    const list = page.getByTestId(panel);
    const count = Number(await list.locator('summary .count').innerText());
    // Demo data: no measure has evidence and none was ever reviewed.
    expect(count, panel).toBeGreaterThan(10);
    await list.locator('summary').click();
    await list.getByTestId('more').getByRole('link').click();
    await expect(page).toHaveURL(new RegExp(`/massnahmen\\?filter=${filter}$`));
    await expect(page.getByTestId('measure-row')).toHaveCount(count);
    await expect(page.getByTestId('result-count')).toHaveText(new RegExp(`^${count} von \\d+ Maßnahmen$`));
    await expect(page.getByTestId('filter-chip').and(page.locator('[aria-current=true]'))).toHaveCount(1);
  }

  // A measure never reviewed says so on its own page, as the list did.
  await page.getByTestId('measure-link').first().click();
  await expect(page.getByTestId('review-due')).toBeVisible();
  await expect(page.getByTestId('measure-review')).toContainText('Zuletzt geprüft: noch nie');

  // The search narrows down on the server; the filter stays.
  await page.goto('/massnahmen?filter=pruefung-faellig');
  await page.getByLabel('Suchen', { exact: true }).fill('Firewall');
  await page.getByRole('button', { name: 'Suchen' }).click();
  await expect(page).toHaveURL(/filter=pruefung-faellig/);
  await expect(page).toHaveURL(/q=Firewall/);
  const rows = page.getByTestId('measure-row');
  const found = await rows.count();
  expect(found).toBeGreaterThan(0);
  await expect(page.getByTestId('result-count')).toHaveText(new RegExp(`^${found} von \\d+ Maßnahmen$`));
  // The match may stand anywhere in the text, not only in the row's title.
  await rows.first().getByTestId('measure-link').click();
  await expect(page.getByTestId('measure-body')).toContainText(/firewall/i);

  // Reordering is a mode of its own; the worklist carries no arrows.
  await page.goto('/massnahmen');
  await expect(page.getByRole('button', { name: 'Maßnahme nach oben' })).toHaveCount(0);
  await page.getByTestId('arrange').click();
  await expect(page.getByRole('button', { name: 'Maßnahme nach oben' }).first()).toBeVisible();
  await page.getByTestId('arrange-done').click();
  await expect(page).toHaveURL(/\/massnahmen$/);
});

test('a refused save shows what failed, in view and at the field; a good one confirms', async ({ page }, info) => {
  const js = info.project.name === 'with-js';
  await login(page, js);
  await page.goto('/massnahmen');
  const section = page.getByTestId('category').filter({ has: page.getByRole('heading', { name: js ? '4.1 Weitergabekontrolle' : '4.2 Eingabekontrolle', exact: true }) });
  await section.getByTestId('measure-link').first().click();
  await page.getByTestId('edit').click();

  const body = page.getByLabel('Beschreibung der Maßnahme');
  const old = await body.inputValue();
  const title = page.getByLabel('Kurztitel (optional)');
  await title.fill(`Kurztitel ${info.project.name}`);
  await body.fill('   \n  ');
  if (js) {
    // The browser refuses a text of spaces before sending it …
    await page.getByRole('button', { name: 'Speichern' }).click();
    expect(await body.evaluate((el) => (el as HTMLTextAreaElement).validity.customError)).toBe(true);
    await expect(page).not.toHaveURL(/__err/);
    // … and the server refuses it too (the form sent without the browser's checks).
    await page.locator('#edit-measure').evaluate((f) => { (f as HTMLFormElement).noValidate = true; });
  }
  await page.getByRole('button', { name: 'Speichern' }).click();

  const summary = page.getByTestId('error-summary');
  await expect(summary).toBeFocused();
  await expect(summary).toBeInViewport();
  await expect(summary).toContainText('Der Text der Maßnahme darf nicht leer sein.');
  const field = page.getByLabel('Beschreibung der Maßnahme');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAttribute('aria-describedby', 'body-error');
  await expect(page.locator('#body-error')).toHaveText('Der Text der Maßnahme darf nicht leer sein.');
  // What was typed is still there (the server refused it, it did not lose it).
  await expect(title).toHaveValue(`Kurztitel ${info.project.name}`);
  // The summary links to the field.
  await summary.getByRole('link').click();
  await expect(page).toHaveURL(/#body$/);

  await field.fill(`${old}\n\nErgänzt im Browsertest ${info.project.name}.`);
  await page.getByRole('button', { name: 'Speichern' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Gespeichert' })).toHaveText('Gespeichert – Version 2');
  await expect(page.getByTestId('measure-body')).toContainText(`Ergänzt im Browsertest ${info.project.name}.`);
  await expect(page.getByTestId('error-summary')).toHaveCount(0);
});
