// Drives Debian's chromium over a running `coffer serve` (tests/it/browser.rs starts it over a
// seeded workspace and runs this): every view loads with no console error and no failed
// request, the matrix shows a failed and a missed cell, links between views work, the first
// Tab reaches the skip link, axe-core finds no serious or critical violation, and a
// screenshot of each view is written to the output directory.
//
//   node tests/browser/dashboard.mjs http://127.0.0.1:PORT OUTPUT_DIR
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node dashboard.mjs BASE_URL OUTPUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const problems = [];
const fail = (m) => { problems.push(m); console.error(`FAIL ${m}`); };

const browser = await chromium.launch({
  executablePath: process.env.COFFER_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

  // the views, then a resource's and a job's page found through links
  const views = [
    ['overview', '/'], ['matrix', '/matrix?days=30'], ['jobs', '/jobs'], ['vaults', '/vaults'],
    ['schedule', '/schedule'], ['audit', '/audit'],
  ];
  for (const [name, path] of views) {
    errors.length = 0;
    const res = await page.goto(base + path);
    if (!res || res.status() !== 200) fail(`${path} answered ${res && res.status()}`);
    if ((await page.locator('h1').count()) !== 1) fail(`${path} has no single h1`);
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    for (const e of errors) fail(`${path}: ${e}`);
  }

  // the matrix shows a failed and a missed cell, each with a title
  await page.goto(base + '/matrix?days=30');
  const matrix = page.getByRole('table', { name: 'Protection matrix' });
  for (const status of ['failed', 'missed']) {
    const cells = matrix.locator(`rect[data-status="${status}"]`);
    const n = await cells.count();
    if (n === 0) fail(`the matrix shows no ${status} cell`);
    else {
      const title = await cells.first().locator('xpath=preceding-sibling::*[local-name()="title"]').textContent();
      if (!title || !title.includes(status)) fail(`a ${status} cell's title is ${JSON.stringify(title)}`);
    }
  }

  // links between views: the navigation, a resource from the matrix, a job from the resource
  await page.goto(base + '/');
  const tab = await page.keyboard.press('Tab').then(() => page.evaluate(() => document.activeElement && document.activeElement.className));
  if (tab !== 'skip') fail(`the first Tab focuses ${JSON.stringify(tab)}, not the skip link`);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Protection matrix' }).click();
  if (!page.url().includes('/matrix')) fail(`the navigation led to ${page.url()}`);
  await matrix.locator('th[scope="row"] a').first().click();
  if (!page.url().includes('/resources/')) fail(`a matrix row led to ${page.url()}`);
  errors.length = 0;
  await page.screenshot({ path: join(out, 'resource.png'), fullPage: true });
  const resourcePath = new URL(page.url()).pathname;
  const jobLink = page.locator('a[href^="/jobs/"]').first();
  if ((await jobLink.count()) === 0) fail('the resource page links to no job');
  else {
    await jobLink.click();
    if (!page.url().includes('/jobs/job-')) fail(`a job link led to ${page.url()}`);
    await page.screenshot({ path: join(out, 'job.png'), fullPage: true });
  }
  const jobPath = new URL(page.url()).pathname;
  for (const e of errors) fail(`resource or job page: ${e}`);

  // filters are plain GET forms
  await page.goto(base + '/jobs');
  await page.selectOption('select[name="status"]', 'failed');
  await page.getByRole('button', { name: 'Show' }).click();
  if (!page.url().includes('status=failed')) fail(`the jobs filter led to ${page.url()}`);
  const rows = await page.locator('main table tbody tr').filter({ hasText: 'failed' }).count();
  if (rows === 0) fail('filtering jobs by failed shows none');

  // accessibility: axe-core on every page (injected past the page's CSP, which allows no script)
  const audit = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
  const ap = await audit.newPage();
  for (const path of [...views.map((v) => v[1]), resourcePath, jobPath]) {
    await ap.goto(base + path);
    await ap.addScriptTag({ content: axeSource });
    const result = await ap.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        fail(`${path}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
      }
    }
  }
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(`${problems.length} problem(s)`);
  process.exit(1);
}
console.log('every view loaded without errors; links, matrix cells and accessibility checked');
