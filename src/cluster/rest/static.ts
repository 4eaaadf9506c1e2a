/**
 * The dashboard's files: its own static ES modules (`src/cluster/web/`) and the view library's ES modules taken from
 * the installed packages (preact, preact/hooks, htm). All are read once at start into memory, so a request can only
 * ever name one of these files (no path from a request reaches the file system).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The view library's ES modules, by the URL path the import map in index.html gives them. */
const VENDOR_MODULES: Readonly<Record<string, (require: NodeJS.Require) => string>> = {
  '/vendor/preact.mjs': (require) => require.resolve('preact'),
  '/vendor/preact-hooks.mjs': (require) => require.resolve('preact/hooks'),
  // htm's package entry for `require` is CommonJS; its ES module sits beside it.
  '/vendor/htm.mjs': (require) => join(dirname(require.resolve('htm')), 'htm.mjs'),
};

/** Where the dashboard's own files are: beside this module's folder (src, or dist after the build copied them). */
export function findWebDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'web'), join(here, '..', '..', '..', 'src', 'cluster', 'web')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (found === undefined) {
    throw new Error(`The dashboard's files were not found (looked in ${candidates.join(', ')}).`);
  }
  return found;
}

/** Loads every dashboard file and vendor module into a map from URL path to content. */
export function loadStaticAssets(webDirectory: string = findWebDirectory()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const entry of readdirSync(webDirectory, { withFileTypes: true })) {
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || contentType === undefined) continue;
    assets.set(`/web/${entry.name}`, { contentType, body: readFileSync(join(webDirectory, entry.name)) });
  }
  const index = assets.get('/web/index.html');
  if (index !== undefined) assets.set('/', index);
  const require = createRequire(import.meta.url);
  for (const [path, locate] of Object.entries(VENDOR_MODULES)) {
    assets.set(path, { contentType: CONTENT_TYPES['.mjs'] as string, body: readFileSync(locate(require)) });
  }
  return assets;
}
