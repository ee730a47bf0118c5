import { Browser } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, hydrated } from './fixtures';

// The base course "Datenschutz-Grundschulung": its answer key, and a
// staff member passing it through the same pages (and clicks) as in
// staff-completes-training.spec.ts, for specs that need it passed first.

/** The right answers of the shipped course, from its source: question text -> correct option texts. */
export function answerKey(): Map<string, string[]> {
  const src = readFileSync(join(__dirname, '../app/src/training/grundschulung.md'), 'utf8');
  const quiz = src.split('\n---quiz---\n')[1];
  const key = new Map<string, string[]>();
  let current = '';
  for (const raw of quiz.split('\n')) {
    const line = raw.trim();
    const q = line.match(/^\?\??\s+(.*)$/);
    if (q) {
      current = q[1];
      key.set(current, []);
    } else if (line.startsWith('- [x] ')) {
      key.get(current)!.push(line.slice(6));
    }
  }
  return key;
}

/** The staff member `email` signs in (in a context of its own), takes the base course and passes its quiz. */
export async function passBaseCourse(browser: Browser, js: boolean, email: string, password: string) {
  const key = answerKey();
  const ctx = await browser.newContext({ javaScriptEnabled: js });
  try {
    const page = await ctx.newPage();
    await page.goto('/login');
    if (js) await hydrated(page);
    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByLabel('Passwort').fill(password);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect(page.getByRole('heading', { name: /Guten Tag/ })).toBeVisible();

    await page.goto('/schulungen');
    if (js) await hydrated(page);
    const course = page.getByTestId('course').filter({ hasText: 'Datenschutz-Grundschulung' });
    await course.getByRole('button', { name: 'Schulung starten' }).click();
    // With and without JavaScript the server leads straight to the attempt.
    await expect(page).toHaveURL(/\/schulungen\/durchgang\/\d+$/);
    if (js) await hydrated(page);

    const questions = page.getByTestId('question');
    await expect(questions).toHaveCount(key.size);
    for (let i = 0; i < key.size; i++) {
      const q = questions.nth(i);
      const legend = (await q.getByTestId('question-text').innerText()).replace(/^\d+\.\s*/, '');
      const right = key.get(legend);
      expect(right, legend).toBeDefined();
      for (const text of right!) await q.getByLabel(text, { exact: true }).check();
    }
    await page.getByRole('button', { name: 'Test abgeben' }).click();
    await expect(page.getByTestId('result').getByRole('heading', { name: 'Bestanden' })).toBeVisible();
  } finally {
    await ctx.close();
  }
}
