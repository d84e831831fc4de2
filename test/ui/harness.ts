/**
 * Browser tests of the web UI: the real `arca server` (bin/arca, dev mode) serving a fresh production
 * build of web/ (built once per test process with Vite into a temp dir, served with --ui-dir), and
 * Debian's Chromium driven by playwright-core. The page is opened at http://localhost:<port> (not
 * 127.0.0.1) because WebAuthn needs a host name as its RP ID.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type ArcaProcess, REPO_ROOT, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

export const CHROMIUM = process.env['ARCA_CHROMIUM'] ?? '/usr/bin/chromium';
/** Screenshots of every test run land here (a CI artifact); scripts/ui-screenshots.sh copies them to docs/ui/. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'ui');
const DOCS_SHOTS = process.env['ARCA_UI_DOCS_SHOTS'] === '1' ? join(REPO_ROOT, 'docs', 'ui') : undefined;

let built: Promise<string> | undefined;

/** Builds web/ once per process into a temp dir (what `npm run build` makes, elsewhere). */
export function buildUi(): Promise<string> {
  built ??= (async () => {
    const dir = await tempDir('arca-ui-build-');
    const { build } = await import('vite');
    await build({ configFile: join(REPO_ROOT, 'web', 'vite.config.ts'), logLevel: 'error', build: { outDir: dir.path, emptyOutDir: true } });
    return dir.path;
  })();
  return built;
}

export interface UiWorld {
  srv: ArcaProcess;
  /** The origin the browser uses: http://localhost:<port>. */
  origin: string;
  root: string;
  browser: Browser;
  close(): Promise<void>;
}

export const ROOT_TOKEN = 'ui-test-root-token';

export async function startUiWorld(o: { args?: string[] } = {}): Promise<UiWorld> {
  const uiDir = await buildUi();
  const srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT_TOKEN, '--ui-dir', uiDir, ...(o.args ?? [])] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return {
    srv,
    origin: `http://localhost:${srv.port}`,
    root: ROOT_TOKEN,
    browser,
    async close() {
      await browser.close();
      await srv.stop();
    },
  };
}

/** A fresh browser context (its own storage) at a laptop-sized viewport. */
export async function newPage(w: UiWorld): Promise<{ context: BrowserContext; page: Page }> {
  const context = await w.browser.newContext({ viewport: { width: 1366, height: 800 }, baseURL: w.origin });
  const page = await context.newPage();
  return { context, page };
}

/** Signs in with a token through the login form. */
export async function loginWithToken(page: Page, token: string): Promise<void> {
  await page.goto('/ui/');
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core in the page; answers the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  // The callbacks run in the browser: its globals are typed here by hand (this project compiles
  // without the DOM library).
  const violations = await page.evaluate(async () => {
    const w = globalThis as unknown as { document: unknown; axe: { run(ctx: unknown, o: unknown): Promise<{ violations: AxeViolation[] }> } };
    const r = await w.axe.run(w.document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The screenshots docs/ui.md shows (`ui/<name>.png`): only those are regenerated into docs/ui/. */
let docsShows: Set<string> | undefined;
function shownInDocs(name: string): boolean {
  docsShows ??= new Set([...readFileSync(join(REPO_ROOT, 'docs', 'ui.md'), 'utf8').matchAll(/\(ui\/([\w.-]+)\.png\)/g)].map((m) => m[1]!));
  return docsShows.has(name);
}

/** Saves a screenshot as a test artifact (and into docs/ui/ when regenerating the docs' pictures). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: false });
  for (const dir of [ARTIFACTS, DOCS_SHOTS && shownInDocs(name) ? DOCS_SHOTS : undefined]) {
    if (!dir) continue;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.png`), png);
  }
}

/**
 * Everything the page stored persistently, as text: every localStorage item, and every record of every
 * object store of every IndexedDB database (read back, not just the database names), so a test that
 * looks for a secret in it can find one there.
 */
export async function persistentStorageText(page: Page): Promise<string> {
  return page.evaluate(async () => {
    // This project compiles without the DOM library: the little of it used here, typed by hand.
    interface Req<T> {
      result: T;
      error: unknown;
      onsuccess: (() => void) | null;
      onerror: (() => void) | null;
    }
    interface Db {
      objectStoreNames: ArrayLike<string>;
      transaction(store: string): { objectStore(name: string): { getAll(): Req<unknown[]> } };
      close(): void;
    }
    const { localStorage, indexedDB } = globalThis as unknown as {
      localStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null };
      indexedDB: { databases(): Promise<{ name?: string }[]>; open(name: string): Req<Db> };
    };
    // No named helper functions in here: tsx would wrap them in a `__name` call the page does not have.
    const parts: string[] = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i)!;
      parts.push(`${k}=${localStorage.getItem(k)}`);
    }
    for (const d of await indexedDB.databases()) {
      if (!d.name) continue;
      const open = indexedDB.open(d.name);
      const db = await new Promise<Db>((resolve, reject) => {
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      try {
        for (const store of Array.from(db.objectStoreNames)) {
          const all = db.transaction(store).objectStore(store).getAll();
          const records = await new Promise<unknown[]>((resolve, reject) => {
            all.onsuccess = () => resolve(all.result);
            all.onerror = () => reject(all.error);
          });
          parts.push(`idb:${d.name}/${store}=${JSON.stringify(records)}`);
        }
      } finally {
        db.close();
      }
    }
    return parts.join('\n');
  });
}
