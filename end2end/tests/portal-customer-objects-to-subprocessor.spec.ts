import { test, expect, hydrated, logIn } from '../fixtures';

// The DPO plans a new subprocessor and notifies every customer; a customer
// reads the notice in the portal and objects with a reason; the DPO sees the
// objection for that customer. Each project uses its own organisation.

const ORG = {
  'with-js': { dpo: 'dpo@conrat.example', dpoName: 'Katrin Vogel', customer: 'kunde@kanzlei-hoffmann.example', customerName: 'Kanzlei Hoffmann & Partner' },
  'without-js': { dpo: 'dpo@clickbits.example', dpoName: 'Sven Krüger', customer: 'kunde@praxis-weber.example', customerName: 'Praxis Dr. Weber' },
};

const login = logIn;

test('a customer objects to a planned subprocessor and the DPO sees it', async ({ browser }, info) => {
  const js = info.project.name === 'with-js';
  const org = ORG[info.project.name as keyof typeof ORG];
  const sub = `Hetzner Online GmbH (${info.project.name} ${Date.now()})`;
  const reason = `Unser Datenschutzkonzept sieht ${sub} nicht vor.`;

  // The DPO records the planned subprocessor and issues the notice.
  const dpoCtx = await browser.newContext({ javaScriptEnabled: js });
  const dpo = await dpoCtx.newPage();
  await login(dpo, js, org.dpo);
  await expect(dpo.getByRole('heading', { name: new RegExp(`Guten Tag, ${org.dpoName}`) })).toBeVisible();
  await dpo.goto('/unterauftragsverarbeiter');
  if (js) await hydrated(dpo);
  const add = dpo.getByRole('group').filter({ has: dpo.getByText('Unterauftragsverarbeiter hinzufügen', { exact: true }) });
  await add.getByText('Unterauftragsverarbeiter hinzufügen', { exact: true }).click();
  await add.getByLabel('Name').fill(sub);
  await add.getByLabel('Leistung').fill('Rechenzentrumsbetrieb');
  await add.getByLabel('Verarbeitungsorte').fill('Nürnberg (Deutschland)');
  await add.getByLabel('Status').selectOption('planned');
  await add.getByRole('button', { name: 'Speichern' }).click();
  await expect(dpo.getByRole('heading', { name: sub })).toBeVisible();
  // The save is confirmed in the saved card, which is where the page stands.
  const saved = dpo.locator('section.subprocessor').filter({ has: dpo.getByRole('heading', { name: sub }) }).getByTestId('saved');
  await expect(saved).toContainText('Gespeichert – Version');
  await expect(saved).toBeInViewport();

  const notify = dpo.getByRole('group').filter({ has: dpo.getByText('Kunden über einen Unterauftragsverarbeiter informieren') });
  await notify.getByText('Kunden über einen Unterauftragsverarbeiter informieren').click();
  await notify.getByLabel('Geplanter Unterauftragsverarbeiter').selectOption({ label: `${sub} (geplant)` });
  await notify.getByLabel('Erläuterung für die Kunden').fill('Wir erweitern unsere Rechenzentrumskapazität.');
  // The deadline is proposed 30 days ahead.
  await expect(notify.getByLabel('Einspruchsfrist bis einschließlich')).not.toHaveValue('');
  await notify.getByRole('button', { name: 'Mitteilung an alle Kunden senden' }).click();
  const card = dpo.getByTestId('notice').filter({ hasText: `Neuer Unterauftragsverarbeiter: ${sub}` });
  await expect(card).toBeVisible();
  await expect(card).toContainText('Einspruchsfrist läuft bis');
  await expect(card).toContainText('Einsprüche (0)');

  // The customer reads it in the portal and objects.
  const customerCtx = await browser.newContext({ javaScriptEnabled: js });
  const customer = await customerCtx.newPage();
  await login(customer, js, org.customer);
  // A customer has nothing else here: signing in leads straight to the portal.
  await expect(customer).toHaveURL(/\/portal$/);
  const notice = customer.getByTestId('notice').filter({ hasText: `Geplant: ${sub}` });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('Nürnberg (Deutschland)');
  await expect(notice).toContainText('Wir erweitern unsere Rechenzentrumskapazität.');
  if (js) await hydrated(customer);
  await notice.getByText('Einspruch einlegen').click();
  await notice.getByLabel('Begründung des Einspruchs').fill(reason);
  await notice.getByRole('button', { name: 'Einspruch senden' }).click();
  const done = customer.getByTestId('notice').filter({ hasText: `Geplant: ${sub}` }).getByTestId('objection-done');
  await expect(done).toContainText('Ihr Unternehmen hat am');
  await expect(done).toContainText(reason);
  await expect(customer.getByTestId('notice').filter({ hasText: `Geplant: ${sub}` }).getByText('Einspruch einlegen')).toHaveCount(0);

  // The DPO sees the objection for that customer.
  await dpo.reload();
  const after = dpo.getByTestId('notice').filter({ hasText: `Neuer Unterauftragsverarbeiter: ${sub}` });
  await expect(after).toContainText('Einsprüche (1)');
  await expect(after.getByTestId('objections')).toContainText(org.customerName);
  await expect(after.getByTestId('objections')).toContainText(reason);

  await dpoCtx.close();
  await customerCtx.close();
});
