// A dashboard as one self-contained HTML page: panels placed by their gridPos on Grafana's
// 24-column grid, each drawn by its type (charts in ./charts.ts, stats and tables here), on a dark
// Grafana-like theme. Nothing in the page loads from the network. Every panel element carries
// data-type, data-rows (rows its queries returned) and data-state (data | empty | error), so a test
// can check what rendered without reading pixels.
import {
  type BarRow,
  colorFor,
  donutSvg,
  esc,
  type HeatCell,
  heatmapSvg,
  type Series,
  type Slice,
  short,
  stackedBarsSvg,
  THEME,
  timeseriesSvg,
} from './charts.js';
import {
  type DashboardSpec,
  isNumber,
  isText,
  isTime,
  type PanelData,
  type PanelSpec,
  timeOf,
} from './model.js';

export const PAGE_WIDTH = 1600;
const PAD = 12;
const GAP = 8;
/** One grid row: Grafana's 30 px plus its 8 px margin, rounded up a little for the titles. */
const ROW = 36;
const HEADER = 56;
const TITLE = 30;
const COL = (PAGE_WIDTH - 2 * PAD + GAP) / 24;

/** The page's pixel size: fixed width, height from the lowest panel. */
export function pageSize(d: DashboardSpec): { width: number; height: number } {
  const rows = Math.max(...d.panels.map((p) => p.gridPos.y + p.gridPos.h));
  return { width: PAGE_WIDTH, height: HEADER + rows * ROW + PAD - GAP };
}

export interface PageOptions {
  readonly from: number;
  readonly to: number;
  readonly intervalMs: number;
  /** Shown in the header: dashboard variables (tokens only). */
  readonly variables: Readonly<Record<string, string>>;
}

interface Box {
  readonly width: number;
  readonly height: number;
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/** Grafana's default thresholds when a panel sets none: green, red from 80. */
const DEFAULT_STEPS = [
  { color: 'green', value: null },
  { color: 'red', value: 80 },
];
const NAMED_COLORS: Record<string, string> = {
  green: '#73BF69',
  red: '#F2495C',
  yellow: '#FADE2A',
  orange: '#FF9830',
  blue: '#5794F2',
  purple: '#B877D9',
};

function thresholdColor(p: PanelSpec, v: number): string {
  const steps = p.fieldConfig?.defaults?.thresholds?.steps ?? DEFAULT_STEPS;
  let color = steps[0]?.color ?? 'green';
  for (const s of steps) if (s.value === null || v >= s.value) color = s.color;
  return NAMED_COLORS[color] ?? color;
}

function valueFormat(p: PanelSpec): (v: number) => string {
  return p.fieldConfig?.defaults?.unit === 'short' ? short : (v) => String(Number(v.toFixed(2)));
}

function legendHtml(
  items: ReadonlyArray<{ name: string; color: string; values?: string[] }>,
  headers?: string[],
) {
  if (headers)
    return `<table class="legend"><tr><th></th>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${items
      .map(
        (i) =>
          `<tr><td><i style="background:${i.color}"></i>${esc(i.name)}</td>${(i.values ?? []).map((v) => `<td class="num">${esc(v)}</td>`).join('')}</tr>`,
      )
      .join('')}</table>`;
  return `<div class="legend list">${items.map((i) => `<span><i style="background:${i.color}"></i>${esc(i.name)}</span>`).join('')}</div>`;
}

/** Bottom legends wrap: reserve a line per ~width of text (7 px a character). */
function legendLines(names: readonly string[], width: number): number {
  const px = names.reduce((a, n) => a + n.length * 7 + 30, 0);
  return Math.max(1, Math.ceil(px / width));
}

/** Time series from wide (time, n1, n2…) or long (time, label, n) frames, one per target. */
function toSeries(data: PanelData): Series[] {
  const byName = new Map<string, Array<[number, number]>>();
  for (const r of data.results) {
    const [time, ...rest] = r.meta;
    if (!time || !isTime(time.type)) continue;
    const label = rest.find((m) => isText(m.type));
    const numbers = rest.filter((m) => isNumber(m.type));
    for (const row of r.data)
      for (const n of numbers) {
        const name = label ? `${row[label.name]}${numbers.length > 1 ? ` ${n.name}` : ''}` : n.name;
        const points = byName.get(name) ?? [];
        points.push([timeOf(row[time.name]), Number(row[n.name])]);
        byName.set(name, points);
      }
  }
  return [...byName].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) }));
}

function timeseries(data: PanelData, box: Box, o: PageOptions): string {
  const series = toSeries(data);
  const format = valueFormat(data.panel);
  const legend = data.panel.options?.legend;
  const items = series.map((s, i) => ({
    name: s.name,
    color: colorFor(s.name, i),
    values: [short(s.points.reduce((a, p) => a + p[1], 0))],
  }));
  if (legend?.placement === 'right') {
    const lw = Math.min(300, Math.round(box.width * 0.25));
    const calcs = legend.displayMode === 'table' && legend.calcs?.includes('sum') ? ['Total'] : undefined;
    return `<div class="row"><div>${timeseriesSvg({ width: box.width - lw - 8, height: box.height, from: o.from, to: o.to }, series, format)}</div><div class="side" style="width:${lw}px">${legendHtml(calcs ? items : items.map(({ values: _v, ...i }) => i), calcs)}</div></div>`;
  }
  const lh = legendLines(
    items.map((i) => i.name),
    box.width,
  );
  return `${timeseriesSvg({ width: box.width, height: box.height - lh * 18 - 4, from: o.from, to: o.to }, series, format)}${legendHtml(items.map(({ values: _v, ...i }) => i))}`;
}

function barchart(data: PanelData, box: Box): string {
  const r = data.results[0]!;
  const category = r.meta.find((m) => isText(m.type))!;
  const fields = r.meta.filter((m) => isNumber(m.type)).map((m) => m.name);
  const rows: BarRow[] = r.data.map((row) => ({
    category: String(row[category.name]),
    values: fields.map((f) => Number(row[f])),
  }));
  const items = fields.map((f, i) => ({ name: f, color: colorFor(f, i) }));
  const lh = legendLines(fields, box.width);
  return `${stackedBarsSvg({ width: box.width, height: box.height - lh * 18 - 4 }, fields, rows)}${legendHtml(items)}`;
}

function heatmap(data: PanelData, box: Box, o: PageOptions): string {
  const r = data.results[0]!;
  const [time, ...rest] = r.meta;
  const label = rest.find((m) => isText(m.type))!;
  const value = rest.find((m) => isNumber(m.type))!;
  const cells: HeatCell[] = r.data.map((row) => ({
    t: timeOf(row[time!.name]),
    category: String(row[label.name]),
    value: Number(row[value.name]),
  }));
  return heatmapSvg({ ...box, from: o.from, to: o.to, intervalMs: o.intervalMs }, cells);
}

function piechart(data: PanelData, box: Box): string {
  const r = data.results[0]!;
  const label = r.meta.find((m) => isText(m.type))!;
  const value = r.meta.find((m) => isNumber(m.type))!;
  const slices: Slice[] = r.data.map((row) => ({
    name: String(row[label.name]),
    value: Number(row[value.name]),
  }));
  const total = slices.reduce((a, s) => a + s.value, 0) || 1;
  const lw = Math.round(box.width * 0.48);
  const items = slices.map((s, i) => ({
    name: s.name,
    color: colorFor(s.name, i),
    values: [short(s.value), `${((s.value / total) * 100).toFixed(1)}%`],
  }));
  return `<div class="row"><div>${donutSvg({ width: box.width - lw - 8, height: box.height }, slices)}</div><div class="side" style="width:${lw}px">${legendHtml(items, ['Value', 'Percent'])}</div></div>`;
}

function stat(data: PanelData, box: Box): string {
  const r = data.results[0]!;
  const col = r.meta.find((m) => isNumber(m.type))!;
  const v = Number(r.data[0]![col.name]);
  const shown = valueFormat(data.panel)(v);
  const color = thresholdColor(data.panel, v);
  const size = Math.min(box.height * 0.62, (box.width / Math.max(3, shown.length)) * 1.4);
  const background = data.panel.options?.colorMode === 'background';
  return `<div class="stat" data-value="${v}" style="font-size:${Math.round(size)}px;${background ? `background:${color};color:#fff` : `color:${color}`}">${esc(shown)}</div>`;
}

function cell(v: unknown, type: string): string {
  if (v === null || v === undefined) return '';
  if (isTime(type)) return new Date(timeOf(v)).toISOString().slice(0, 19).replace('T', ' ');
  return String(v);
}

/**
 * Column widths for a fixed-layout table: each column's natural width (its longest text, 6.5 px a
 * character), the widest ones capped at a common limit until the table fits the panel, so long
 * text (sentences, titles) ends in an ellipsis instead of pushing the last columns out of sight.
 */
export function fitColumns(natural: readonly number[], width: number): number[] {
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= width) return natural.map((n) => (n * width) / total);
  let lo = 0;
  let hi = Math.max(...natural);
  for (let k = 0; k < 30; k++) {
    const cap = (lo + hi) / 2;
    if (natural.reduce((a, n) => a + Math.min(n, cap), 0) > width) hi = cap;
    else lo = cap;
  }
  return natural.map((n) => Math.min(n, lo));
}

function table(data: PanelData, box: Box): string {
  const r = data.results[0]!;
  const texts = r.data.map((row) => r.meta.map((m) => cell(row[m.name], m.type)));
  const natural = r.meta.map((m, i) => 16 + 6.5 * Math.max(m.name.length, ...texts.map((t) => t[i]!.length)));
  const cols = fitColumns(natural, box.width)
    .map((w) => `<col style="width:${w.toFixed(1)}px">`)
    .join('');
  const head = r.meta.map((m) => `<th class="${isNumber(m.type) ? 'num' : ''}">${esc(m.name)}</th>`).join('');
  const numeric = r.meta.map((m) => isNumber(m.type));
  const body = texts
    .map(
      (t) => `<tr>${t.map((v, i) => `<td class="${numeric[i] ? 'num' : ''}">${esc(v)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<div class="table"><table style="width:${box.width}px"><colgroup>${cols}</colgroup><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const DRAW: Record<string, (d: PanelData, box: Box, o: PageOptions) => string> = {
  timeseries,
  barchart,
  heatmap,
  piechart,
  stat,
  table,
};

function panelHtml(data: PanelData, o: PageOptions): string {
  const { x, y, w, h } = data.panel.gridPos;
  const width = Math.round(w * COL - GAP);
  const height = h * ROW - GAP;
  const box = { width: width - 16, height: height - TITLE - 8 };
  const rows = data.results.reduce((a, r) => a + r.data.length, 0);
  const draw = DRAW[data.panel.type];
  let state: 'data' | 'empty' | 'error' = 'data';
  let body: string;
  if (data.error) {
    state = 'error';
    body = `<div class="error">${esc(data.error.slice(0, 300))}</div>`;
  } else if (!draw) {
    state = 'error';
    body = `<div class="error">panel type ${esc(data.panel.type)} is not drawn by this renderer</div>`;
  } else if (rows === 0) {
    state = 'empty';
    body = '<div class="nodata">No data</div>';
  } else body = draw(data, box, o);
  const style = `left:${Math.round(PAD + x * COL)}px;top:${HEADER + y * ROW}px;width:${width}px;height:${height}px`;
  return `<section class="panel" style="${style}" data-title="${esc(data.panel.title)}" data-type="${esc(data.panel.type)}" data-rows="${rows}" data-state="${state}"><h2>${esc(data.panel.title)}</h2><div class="body" style="width:${box.width}px;height:${box.height}px">${body}</div></section>`;
}

const CSS = `
* { box-sizing: border-box; }
html, body { margin: 0; background: ${THEME.page}; color: ${THEME.text};
  font: 12px 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif; }
.page { position: relative; }
.top { height: ${HEADER}px; padding: 10px ${PAD}px; display: flex; align-items: baseline; gap: 18px; }
.top h1 { margin: 0; font-size: 18px; font-weight: 600; color: #fff; }
.top .meta { color: ${THEME.muted}; font-size: 12px; }
.top .meta b { color: ${THEME.text}; font-weight: normal; background: #22252b; border: 1px solid ${THEME.border};
  border-radius: 2px; padding: 2px 6px; margin-right: 8px; }
.panel { position: absolute; background: ${THEME.panel}; border: 1px solid ${THEME.border}; border-radius: 2px;
  overflow: hidden; }
.panel h2 { margin: 0; height: ${TITLE}px; line-height: ${TITLE}px; padding: 0 8px; font-size: 13px; font-weight: 500;
  color: #d8d9da; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.body { margin: 0 8px 8px; overflow: hidden; position: relative; }
.row { display: flex; gap: 8px; height: 100%; }
.side { overflow: hidden; display: flex; align-items: center; }
svg text { font-family: inherit; }
.legend.list { display: flex; flex-wrap: wrap; gap: 2px 14px; padding-top: 4px; line-height: 14px; }
.legend i { display: inline-block; width: 14px; height: 4px; border-radius: 2px; margin: 0 6px 3px 0; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; }
.legend { width: 100%; }
.legend th { color: #6e9fff; font-weight: 500; text-align: right; padding: 2px 6px; }
.legend td { padding: 2px 6px; white-space: nowrap; }
.table { height: 100%; overflow: hidden; }
.table table { table-layout: fixed; }
.table th { text-align: left; color: #6e9fff; font-weight: 500; padding: 5px 8px; border-bottom: 1px solid ${THEME.border};
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.table td { padding: 5px 8px; border-bottom: 1px solid #22252b; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.stat { height: 100%; display: flex; align-items: center; justify-content: center; font-weight: 500; border-radius: 2px; }
.nodata, .error { height: 100%; display: flex; align-items: center; justify-content: center; color: ${THEME.muted}; font-size: 14px; }
.error { color: #F2495C; font-size: 12px; padding: 12px; text-align: center; }
`;

export function dashboardHtml(d: DashboardSpec, panels: readonly PanelData[], o: PageOptions): string {
  const size = pageSize(d);
  const vars = Object.entries(o.variables)
    .map(([k, v]) => `${esc(k)} <b>${esc(v)}</b>`)
    .join('');
  const range = `${iso(o.from)} → ${iso(o.to)} UTC · interval ${o.intervalMs % 3_600_000 === 0 ? `${o.intervalMs / 3_600_000}h` : `${o.intervalMs / 60_000}m`}`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(d.title)}</title><style>${CSS}</style></head><body><div class="page" style="width:${size.width}px;height:${size.height}px"><div class="top"><h1>${esc(d.title)}</h1><span class="meta">${vars}</span><span class="meta">${esc(range)}</span></div>${panels.map((p) => panelHtml(p, o)).join('')}</div></body></html>`;
}
