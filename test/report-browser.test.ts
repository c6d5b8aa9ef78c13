// The HTML report in a real headless Chromium: it opens without console errors and without a
// single request beyond its own file, the tree expands, search finds files, the layer can be
// changed, and an image of 50,000 files opens within a time budget. Screenshots are written to a
// temporary folder (the path is printed) for a person to look at.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';
import { HAS_CHROMIUM, openBrowser, openReport, type Browser } from './helpers/browser.js';
import { HAS_SHARED, fixture } from './helpers/shared.js';

const tmp = tempDir();
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-report-shots-'));
afterAll(() => tmp.cleanup());

const TINY = path.resolve('samples/tiny.docker-archive.tar');
const APP_V1 = path.resolve('samples/app-oci') + ':v1';

/** Open-time budget for 50,000 files, on CI's two cores (it takes well under a second there). */
const BIG_BUDGET_MS = 5000;

/**
 * An image of 50,000 files: a base of 100 directories of 450 files, a layer that rewrites 2,000
 * of them and removes one directory, and a layer that adds 5,100 more in one flat directory.
 */
function bigArchive(): Buffer {
  const base = tar();
  for (let d = 0; d < 100; d++) {
    base.dir(`usr/share/pkg${String(d).padStart(3, '0')}/`);
    for (let f = 0; f < 450; f++) base.file(`usr/share/pkg${String(d).padStart(3, '0')}/file-${f}.txt`, f % 25 === 0 ? `content of ${d}/${f}\n`.repeat(20) : '');
  }
  const second = tar();
  for (let d = 0; d < 20; d++) for (let f = 0; f < 100; f++) second.file(`usr/share/pkg${String(d).padStart(3, '0')}/file-${f}.txt`, `rewritten ${d}/${f}\n`);
  second.file('usr/share/.wh.pkg099');
  const third = tar().dir('app/').dir('app/data/');
  for (let f = 0; f < 5100; f++) third.file(`app/data/item-${String(f).padStart(5, '0')}.json`, f % 100 === 0 ? '{"big": true}\n'.repeat(50) : '{}\n');
  third.file('app/.env', 'SECRET=1\n');
  const img = image({
    layers: [{ tar: base }, { tar: second }, { tar: third }],
    history: [{ created_by: 'ADD rootfs.tar /' }, { created_by: 'RUN rewrite 2000 files && rm -rf /usr/share/pkg099' }, { created_by: 'COPY app /app' }],
    config: { User: '1000', Labels: { 'org.opencontainers.image.title': 'big' } },
  });
  return dockerArchive([{ image: img, repoTags: ['localhost/big:latest'] }]).toTar();
}

describe.skipIf(!HAS_CHROMIUM)('the HTML report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await openBrowser();
    console.log(`[layerlens tests] report screenshots: ${SHOTS}`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('opens offline without errors, expands the tree, finds a file and changes layer', async () => {
    const out = tmp.file('tiny.html');
    const args = ['report', TINY, '-o', out, '--diff', APP_V1];
    if (HAS_SHARED) args.push('--ci-config', fixture('dive', '.data', '.dive-ci'));
    const r = await run(args);
    expect(r.code, r.stderr).toBe(0);
    const { page, errors, requests } = browser;
    await openReport(browser, out);
    expect(await page.title()).toBe('localhost/corpus/tiny:latest — layerlens report');

    // The root is open; /etc is closed until clicked, then its files are there.
    const etc = page.locator('#tree .row', { has: page.locator('.name', { hasText: /^etc$/ }) }).first();
    await expect.poll(() => page.locator('#tree .row .name', { hasText: /^passwd$/ }).count()).toBe(0);
    await etc.locator('.tog').click();
    await expect.poll(() => page.locator('#tree .row .name', { hasText: /^passwd$/ }).count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'tiny-tree.png') });

    // Search by name, then open the result in the tree.
    await page.fill('#search', 'os-release');
    await expect.poll(() => page.locator('#results').innerText()).toContain('/usr/lib/os-release');
    expect(await page.locator('#results').innerText()).toContain('/etc/os-release');
    await page.locator('#results div', { hasText: '/usr/lib/os-release' }).click();
    await expect.poll(() => page.locator('#tree .row.flash .name').innerText()).toBe('os-release');
    await page.screenshot({ path: path.join(SHOTS, 'tiny-search.png') });

    // Layer 2 removed /opt/app/README (among others): shown struck through where it was.
    await page.selectOption('#layer', '2');
    await expect.poll(() => page.locator('#layer-summary').innerText()).toMatch(/\d+ removed by layer 2/);
    await page.check('#only');
    await page.locator('#tree .row', { has: page.locator('.name', { hasText: /^opt$/ }) }).first().locator('.tog').click();
    await page.locator('#tree .row', { has: page.locator('.name', { hasText: /^app$/ }) }).first().locator('.tog').click();
    await expect.poll(() => page.locator('#tree .row.removed .name', { hasText: /^README$/ }).count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'tiny-layer2.png') });

    // The rules and the diff are on the page.
    if (HAS_SHARED) expect(await page.locator('#rules').innerText()).toContain('lowestEfficiency');
    expect(await page.locator('#diff').innerText()).toContain('Added files');
    await page.locator('#overview').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'tiny-top.png') });

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  }, 60_000);

  it('opens an image of 50,000 files quickly, and finds any of them', async () => {
    const archive = tmp.file('big.tar', bigArchive());
    const out = tmp.file('big.html');
    const started = Date.now();
    const r = await run(['report', archive, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const buildMs = Date.now() - started;
    const { page, errors } = browser;
    const openMs = await openReport(browser, out);
    const info = await page.evaluate(() => (window as unknown as { __layerlens: { ms: number; nodes: number } }).__layerlens);
    console.log(`[layerlens tests] 50,000-file report: built in ${buildMs} ms, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB, opened in ${openMs} ms (script ${info.ms.toFixed(0)} ms, ${info.nodes} paths)`);
    expect(info.nodes).toBeGreaterThan(50_000);
    expect(openMs).toBeLessThan(BIG_BUDGET_MS);

    // Only the open directories have rows: the page did not draw 50,000 of them.
    expect(await page.locator('#tree .row').count()).toBeLessThan(50);

    // A path search finds one file among 50,000, and opening it draws only its directories.
    await page.fill('#search', '/pkg057/file-449');
    await expect.poll(() => page.locator('#results').innerText()).toContain('/usr/share/pkg057/file-449.txt');
    await page.locator('#results div', { hasText: '/usr/share/pkg057/file-449.txt' }).click();
    await expect.poll(() => page.locator('#tree .row.flash .name').innerText()).toBe('file-449.txt');

    // 5,100 files in one directory come a page at a time.
    await page.fill('#search', '');
    const app = page.locator('#tree > .node > .kids > .node > .row', { has: page.locator('.name', { hasText: /^app$/ }) });
    await app.locator('.tog').click();
    await page.locator('#tree .row', { has: page.locator('.name', { hasText: /^data$/ }) }).first().locator('.tog').click();
    await expect.poll(() => page.locator('#tree .row.more').first().innerText()).toContain('show 500 more of 4600 remaining');

    // Sorted by size, the biggest files of /app/data come first, then the button for the next page.
    await page.selectOption('#sort', 'size');
    const sizes = await page.locator('#tree .row', { has: page.locator('.name', { hasText: /^item-/ }) }).locator('.size').allInnerTexts();
    expect(sizes.slice(0, 2)).toEqual(['700B', '700B']);
    await page.locator('#tree .row.more').first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'big.png') });
    expect(errors).toEqual([]);
  }, 120_000);
});
