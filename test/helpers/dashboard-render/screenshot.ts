// Screenshots a rendered dashboard page with headless Chromium — Debian's `chromium` package
// (installed by scripts/services.sh), driven by playwright-core, which downloads no browser of its
// own. The page is set as content with the network cut off; any request it still tries is
// reported, as is what each panel element drew.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Debian's binary; VIGIL_CHROMIUM points elsewhere (another distribution, a local build). */
export const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';

export interface RenderedPanel {
  readonly title: string;
  readonly type: string;
  readonly rows: number;
  readonly state: string;
  /** Drawn marks: lines, bars, heatmap cells, pie slices, table rows, the stat value. */
  readonly marks: number;
}

export interface Screenshot {
  readonly png: Buffer;
  readonly panels: readonly RenderedPanel[];
  /** URLs the page tried to load (it should try none). */
  readonly requests: readonly string[];
}

export async function screenshotHtml(
  html: string,
  size: { width: number; height: number },
): Promise<Screenshot> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: \`bash scripts/services.sh up\` installs Debian's chromium`);
  // --no-sandbox: tests run as root in a container, where Chromium's sandbox cannot start.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1, offline: true });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    const panels = await page.$$eval('section.panel', (els) =>
      els.map((el) => ({
        title: el.getAttribute('data-title') ?? '',
        type: el.getAttribute('data-type') ?? '',
        rows: Number(el.getAttribute('data-rows')),
        state: el.getAttribute('data-state') ?? '',
        marks: el.querySelectorAll('.series, .bar, .cell, .slice, .stat, tbody tr').length,
      })),
    );
    const png = await page.screenshot({ type: 'png', fullPage: false });
    return { png, panels, requests };
  } finally {
    await browser.close();
  }
}
