// The SOC overview and Identity investigation dashboards drawn to PNG from the same queries
// Grafana would send (test/helpers/grafana-macros.ts), against a store seeded through the real
// pipeline with the generated workload (ending on the last Friday 18:00 UTC, so the attack is
// always at the same weekday hour). The pictures land in test-artifacts/dashboards/ for review —
// `npm run dashboards:render` runs just this file. What is asserted: every panel drew data, the
// PNG has the page's size and is a picture (not one flat colour), the page loaded nothing from the
// network and shows tokens, never the workload's raw identifiers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload, lastFridayEvening, type Workload } from '../../src/cli/demo/workload.js';
import { type DashboardSpec, type QueryResult, queryPanels } from '../helpers/dashboard-render/model.js';
import { dashboardHtml, pageSize } from '../helpers/dashboard-render/page.js';
import { screenshotHtml } from '../helpers/dashboard-render/screenshot.js';
import type { GrafanaQueryContext } from '../helpers/grafana-macros.js';
import { colourStats, decodePng } from '../helpers/png.js';
import { seedWorkload } from '../helpers/seed.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'test-artifacts/dashboards');
const HOUR = 3_600_000;
const DAYS = 3;

const load = (file: string) =>
  JSON.parse(readFileSync(path.join(ROOT, 'dashboards', file), 'utf8')) as DashboardSpec;

/** Panels an analyst reads first: they must have drawn data, whatever else is empty. */
const KEY_PANELS: Record<string, string[]> = {
  'soc-overview': [
    'Access volume by system and outcome',
    'Findings by detector and severity',
    'Top identities by risk',
  ],
  'identity-investigation': [
    'Volume vs expected band',
    'Collections over time',
    'Findings',
    'Responder actions',
  ],
};

describe('dashboards rendered to PNG', () => {
  let v: TestVigil;
  let w: Workload;
  let ctx: GrafanaQueryContext;
  const tenant = 'render';

  beforeAll(async () => {
    v = await startTestVigil();
    const end = lastFridayEvening(Date.now());
    w = generateWorkload({ tenant, days: DAYS, people: 5, services: 2, seed: 5, end });
    await seedWorkload(v, tenant, w.events);
    ctx = {
      // From the workload's first hour to now: incidents and responder actions carry wall-clock times.
      from: end - DAYS * 24 * HOUR,
      to: Math.ceil((Date.now() + 60_000) / 60_000) * 60_000,
      intervalMs: HOUR,
      variables: {
        tenant,
        identity: v.app.tokenizer.token('actor', tenant, w.attacker, 'user'),
        datasource: 'vigil-clickhouse',
      },
    };
    mkdirSync(OUT, { recursive: true });
  }, 120_000);
  afterAll(async () => v?.stop());

  async function run(sql: string): Promise<QueryResult> {
    const { body } = await v.app.store.client.exec(sql, {
      format: 'JSON',
      settings: { date_time_output_format: 'iso' },
    });
    return JSON.parse(body.toString('utf8')) as QueryResult;
  }

  it.each(['soc-overview', 'identity-investigation'])('%s renders every panel with data', async (name) => {
    const d = load(`${name}.json`);
    const variables: Record<string, string> =
      name === 'soc-overview' ? { tenant } : { tenant, identity: ctx.variables.identity! };
    const panels = await queryPanels(d, ctx, run);
    const html = dashboardHtml(d, panels, { ...ctx, variables });
    writeFileSync(path.join(OUT, `${name}.html`), html);

    // Tokens only: none of the raw identifiers the workload was generated with reach the page.
    const raw = new Set(w.events.flatMap((e) => [e.user, e.credential, e.session, e.src_ip]));
    const leaked = [...raw].filter((r): r is string => typeof r === 'string' && html.includes(r));
    expect(leaked).toEqual([]);

    const size = pageSize(d);
    const shot = await screenshotHtml(html, size);
    writeFileSync(path.join(OUT, `${name}.png`), shot.png);
    expect(shot.requests).toEqual([]);

    const png = decodePng(shot.png);
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    const colours = colourStats(png);
    // A blank page is one colour; the same page with every panel saying "No data" measured ~740
    // colours, the commonest (panel background) on 88–90 % of it. Drawn, it is 2,000–5,000 colours
    // and ~80–83 %: charts, cells and table text.
    expect(colours.distinct, 'distinct colours').toBeGreaterThan(1_500);
    expect(colours.dominantShare, 'share of the commonest colour').toBeLessThan(0.86);

    expect(shot.panels.map((p) => p.title)).toEqual(d.panels.map((p) => p.title));
    const notDrawn = shot.panels.filter((p) => p.state !== 'data' || p.rows === 0 || p.marks === 0);
    expect(
      notDrawn.map((p) => `${p.title}: ${p.state}, ${p.rows} rows, ${p.marks} marks`),
      'panels without data',
    ).toEqual([]);
    for (const title of KEY_PANELS[name]!)
      expect(shot.panels.find((p) => p.title === title)?.state, title).toBe('data');

    if (name === 'soc-overview') {
      const top = panels.find((p) => p.panel.title === 'Top identities by risk')!.results[0]!;
      expect(top.data[0]?.identity, 'the attacker tops the risk table').toBe(ctx.variables.identity);
    }
  });
});
