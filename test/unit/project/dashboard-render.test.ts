// The dashboard page renderer without a browser or a store: layout from gridPos, the markers a
// test reads (data-rows, data-state), escaping of values that come from events, table columns
// that fit their panel, and the PNG reader the render test uses.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { short, timeTicks, valueTicks } from '../../helpers/dashboard-render/charts.js';
import type { DashboardSpec, PanelData, PanelSpec } from '../../helpers/dashboard-render/model.js';
import { dashboardHtml, fitColumns, PAGE_WIDTH, pageSize } from '../../helpers/dashboard-render/page.js';
import { colourStats, decodePng } from '../../helpers/png.js';

const T0 = Date.UTC(2026, 10, 17, 18);
const HOUR = 3_600_000;
const options = { from: T0, to: T0 + 24 * HOUR, intervalMs: HOUR, variables: { tenant: 'acme' } };

const panel = (p: Partial<PanelSpec> & Pick<PanelSpec, 'type' | 'title'>): PanelSpec => ({
  id: 1,
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  targets: [{ refId: 'A', rawSql: 'SELECT 1' }],
  ...p,
});

function page(panels: PanelData[]): string {
  const d: DashboardSpec = { uid: 'u', title: 'T', panels: panels.map((p) => p.panel) };
  return dashboardHtml(d, panels, options);
}

/** The attributes of the section for a panel title. */
function section(html: string, title: string): string {
  return html.match(new RegExp(`<section class="panel"[^>]*data-title="${title}"[^>]*>`))?.[0] ?? '';
}

describe('dashboard page', () => {
  it('sizes the page from the lowest panel on a 24-column grid', () => {
    const d: DashboardSpec = {
      uid: 'u',
      title: 'T',
      panels: [
        panel({ type: 'stat', title: 'a', gridPos: { x: 0, y: 0, w: 24, h: 4 } }),
        panel({ type: 'stat', title: 'b', gridPos: { x: 12, y: 4, w: 12, h: 9 } }),
      ],
    };
    expect(pageSize(d)).toEqual({ width: PAGE_WIDTH, height: 56 + 13 * 36 + 4 });
    const html = dashboardHtml(
      d,
      d.panels.map((p) => ({
        panel: p,
        results: [{ meta: [{ name: 'n', type: 'UInt64' }], data: [{ n: '3' }] }],
      })),
      options,
    );
    // Panel b starts half way across (after the page padding) and 4 rows down.
    expect(section(html, 'b')).toMatch(/left:(80[0-9])px;top:200px;width:78[0-9]px/);
  });

  it('marks panels with data, without rows and with a failed query, and counts the rows', () => {
    const html = page([
      {
        panel: panel({ type: 'table', title: 'full' }),
        results: [{ meta: [{ name: 'x', type: 'String' }], data: [{ x: 'a' }, { x: 'b' }] }],
      },
      { panel: panel({ type: 'table', title: 'empty' }), results: [{ meta: [], data: [] }] },
      {
        panel: panel({ type: 'table', title: 'broken' }),
        results: [],
        error: 'Code: 47. Unknown identifier',
      },
      { panel: panel({ type: 'gauge', title: 'unknown' }), results: [{ meta: [], data: [{}] }] },
    ]);
    expect(section(html, 'full')).toContain('data-rows="2" data-state="data"');
    expect(section(html, 'empty')).toContain('data-rows="0" data-state="empty"');
    expect(html).toContain('No data');
    expect(section(html, 'broken')).toContain('data-state="error"');
    expect(html).toContain('Unknown identifier');
    expect(section(html, 'unknown')).toContain('data-state="error"');
  });

  it('escapes values that come from events (collection names, titles)', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const html = page([
      {
        panel: panel({ type: 'piechart', title: 'mix' }),
        results: [
          {
            meta: [
              { name: 'collection', type: 'LowCardinality(String)' },
              { name: 'n', type: 'UInt64' },
            ],
            data: [{ collection: evil, n: '5' }],
          },
        ],
      },
    ]);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('draws long-format time series as one line per label and wide ones as one per column', () => {
    const t = (h: number) => new Date(T0 + h * HOUR).toISOString();
    const html = page([
      {
        panel: panel({ type: 'timeseries', title: 'long' }),
        results: [
          {
            meta: [
              { name: 'time', type: "DateTime('UTC')" },
              { name: 'series', type: 'String' },
              { name: 'n', type: 'Int64' },
            ],
            data: [
              { time: t(1), series: 'qdrant', n: '4' },
              { time: t(1), series: 'milvus', n: '2' },
              { time: t(2), series: 'qdrant', n: '6' },
            ],
          },
          {
            meta: [
              { name: 'time', type: "DateTime('UTC')" },
              { name: 'expected', type: 'Float64' },
              { name: 'band_high', type: 'Float64' },
            ],
            data: [{ time: t(2), expected: 3, band_high: 7 }],
          },
        ],
      },
    ]);
    const names = [...html.matchAll(/class="series" data-series="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(['qdrant', 'milvus', 'expected', 'band_high']);
  });

  it('draws all-zero values without NaN coordinates or colours', () => {
    const time = { name: 'time', type: "DateTime('UTC')" };
    const label = { name: 'c', type: 'String' };
    const n = { name: 'n', type: 'UInt64' };
    const html = page([
      {
        panel: panel({ type: 'heatmap', title: 'h' }),
        results: [{ meta: [time, label, n], data: [{ time: new Date(T0).toISOString(), c: 'a', n: '0' }] }],
      },
      {
        panel: panel({ type: 'piechart', title: 'p' }),
        results: [{ meta: [label, n], data: [{ c: 'a', n: '0' }] }],
      },
      {
        panel: panel({ type: 'barchart', title: 'b' }),
        results: [{ meta: [label, n], data: [{ c: 'a', n: '0' }] }],
      },
    ]);
    expect(html).not.toMatch(/NaN|Infinity/);
  });

  it('caps the widest table columns so the table fits its panel', () => {
    expect(fitColumns([100, 100], 400)).toEqual([200, 200]);
    const fitted = fitColumns([80, 120, 900], 600);
    expect(fitted.slice(0, 2)).toEqual([80, 120]);
    expect(fitted[2]).toBeCloseTo(400, 0);
  });

  it('formats axes like Grafana: short units, round steps, UTC time ticks', () => {
    expect([short(950), short(11_230), short(869_300_000)]).toEqual(['950', '11.2 K', '869 Mil']);
    expect(valueTicks(570)).toEqual([0, 200, 400, 600]);
    expect(valueTicks(1, true)).toEqual([0, 1]);
    expect(timeTicks(T0, T0 + 3 * 24 * HOUR, 800).map((x) => x.label)).toEqual([
      '11/18',
      '12:00',
      '11/19',
      '12:00',
      '11/20',
      '12:00',
    ]);
  });
});

describe('PNG reader', () => {
  /** A PNG by hand: 8-bit RGB, each row with the given filter type (bytes already filtered). */
  function png(width: number, rows: Array<{ filter: number; bytes: number[] }>): Buffer {
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]); // CRC unchecked
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(rows.length, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const raw = Buffer.from(rows.flatMap((r) => [r.filter, ...r.bytes]));
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }

  it('undoes the row filters and counts colours', () => {
    const decoded = decodePng(
      png(2, [
        { filter: 0, bytes: [10, 20, 30, 10, 20, 30] },
        { filter: 1, bytes: [10, 20, 30, 5, 5, 5] }, // sub: second pixel = first + 5
        { filter: 2, bytes: [0, 0, 0, 1, 1, 1] }, // up: copies the row above, second pixel + 1
      ]),
    );
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([2, 3, 3]);
    expect([...decoded.pixels]).toEqual([
      10, 20, 30, 10, 20, 30, 10, 20, 30, 15, 25, 35, 10, 20, 30, 16, 26, 36,
    ]);
    expect(colourStats(decoded)).toEqual({ distinct: 3, dominantShare: 4 / 6 });
  });

  it('refuses what is not a PNG', () => {
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow('not a PNG');
  });
});
