/**
 * A real headless Chromium for the dashboard tests: Debian's `chromium` driven by playwright-core through its
 * executable path (nothing is downloaded), with a fresh profile per launch. Missing chromium is a failure with the
 * command that installs it, never a silent skip.
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.FLINK_RPC_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of the browser tests (git-ignored). */
export const SCREENSHOT_DIR = join(process.cwd(), '.screenshots');

export interface Browser {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Errors the page threw or logged: a dashboard that works logs none. */
  readonly pageErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}. The dashboard tests need Debian's chromium: run ` +
        '`bash scripts/install-chromium.sh` as root (npm test does it in its pretest step), ' +
        'or point FLINK_RPC_CHROMIUM to a Chromium binary.',
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'flink-rpc-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 30_000,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    page,
    context,
    pageErrors,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
