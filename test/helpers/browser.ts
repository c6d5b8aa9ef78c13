// A real headless Chromium (Debian's `chromium` package) driven by playwright-core, for tests of
// the HTML report as a person sees it. A machine without it skips those tests, saying so (.ci/run
// installs it where apt-get exists).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = fs.existsSync(CHROMIUM);

if (!HAS_CHROMIUM) {
  console.warn(`[layerlens tests] ${CHROMIUM} is absent: the browser tests of the HTML report are skipped (apt-get install chromium; CI installs it).`);
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Requests the page made for anything but its own file. */
  requests: string[];
  close(): Promise<void>;
}

/** A fresh browser (its own empty profile) with one page, watching errors and requests. */
export async function openBrowser(viewport = { width: 1400, height: 1000 }): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) requests.push(r.url());
  });
  return {
    page,
    errors,
    requests,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Open a report and wait for its script to say it is ready; returns the milliseconds that took. */
export async function openReport(b: Browser, file: string, timeout = 60_000): Promise<number> {
  const started = Date.now();
  await b.page.goto(`file://${file}`, { timeout });
  await b.page.waitForFunction(() => (window as unknown as { __layerlens?: { ready: boolean } }).__layerlens?.ready === true, undefined, { timeout });
  return Date.now() - started;
}
