// Inline SVG for the panel types that draw a chart: timeseries (lines), barchart (horizontal stacked
// bars), heatmap (time × category grid) and piechart (donut). Hand-written, no chart library: the
// page must render with no network, and a few hundred lines are easier to review than a bundle.
// Every function gets the exact pixel box it may draw in and returns an <svg> string.

export const THEME = {
  page: '#111217',
  panel: '#181b1f',
  border: '#2a2d33',
  text: '#ccccdc',
  muted: '#8e8e9e',
  grid: '#2a2d33',
} as const;

/** Grafana's classic palette, then colours by meaning for the names these dashboards use. */
const PALETTE = ['#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#96D98D'];
const NAMED: Record<string, string> = {
  low: '#73BF69',
  medium: '#FADE2A',
  high: '#FF9830',
  critical: '#F2495C',
  succeeded: '#73BF69',
  failed: '#F2495C',
  retrying: '#FADE2A',
  dry_run: '#8AB8FF',
  other: '#8e8e9e',
};

export function colorFor(name: string, index: number): string {
  return NAMED[name] ?? PALETTE[index % PALETTE.length]!;
}

export function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const trim = (x: number) => String(Number(x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2)));

/** Grafana's `short` unit: 1.23 K, 4.5 Mil, 2 B. */
export function short(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${trim(n / 1e9)} B`;
  if (a >= 1e6) return `${trim(n / 1e6)} Mil`;
  if (a >= 1e3) return `${trim(n / 1e3)} K`;
  return trim(n);
}

/** 0 … a round maximum in about four steps of 1, 2, 2.5 or 5 × 10ⁿ (whole steps for counts). */
export function valueTicks(max: number, whole = false): number[] {
  const raw = (max > 0 ? max : 1) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  if (whole) step = Math.ceil(step);
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks.length > 1 ? ticks : [0, step];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

/** Round UTC instants across [from, to], at most one per ~100 px; a day boundary shows its date. */
export function timeTicks(from: number, to: number, width: number): Array<{ t: number; label: string }> {
  const most = Math.max(2, Math.floor(width / 100));
  const step = TIME_STEPS.find((s) => (to - from) / s <= most) ?? TIME_STEPS.at(-1)!;
  const out: Array<{ t: number; label: string }> = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const iso = new Date(t).toISOString();
    out.push({ t, label: t % DAY === 0 ? `${iso.slice(5, 7)}/${iso.slice(8, 10)}` : iso.slice(11, 16) });
  }
  return out;
}

const text = (x: number, y: number, s: string, anchor = 'start', extra = '') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" ${extra}>${esc(s)}</text>`;

const svg = (w: number, h: number, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-size="11" fill="${THEME.muted}">${body}</svg>`;

export interface Series {
  readonly name: string;
  /** [epoch ms, value], in time order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface TimeBox {
  readonly width: number;
  readonly height: number;
  readonly from: number;
  readonly to: number;
}

/** Lines over a time axis; sparse series also get a dot per point (Grafana's `showPoints: auto`). */
export function timeseriesSvg(
  box: TimeBox,
  series: readonly Series[],
  format: (v: number) => string,
): string {
  const left = 52;
  const bottom = 20;
  const top = 8;
  const pw = box.width - left - 10;
  const ph = box.height - top - bottom;
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const yt = valueTicks(
    max,
    series.every((s) => s.points.every((p) => Number.isInteger(p[1]))),
  );
  const ymax = yt.at(-1)!;
  const x = (t: number) => left + ((t - box.from) / (box.to - box.from)) * pw;
  const y = (v: number) => top + ph - (v / ymax) * ph;
  const parts: string[] = [];
  for (const v of yt) {
    parts.push(`<line x1="${left}" x2="${left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="${THEME.grid}"/>`);
    parts.push(text(left - 6, y(v) + 4, format(v), 'end'));
  }
  for (const tick of timeTicks(box.from, box.to, pw)) {
    parts.push(
      `<line x1="${x(tick.t)}" x2="${x(tick.t)}" y1="${top}" y2="${top + ph}" stroke="${THEME.grid}"/>`,
    );
    parts.push(text(x(tick.t), box.height - 5, tick.label, 'middle'));
  }
  series.forEach((s, i) => {
    const color = colorFor(s.name, i);
    const d = s.points.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    parts.push(
      `<path class="series" data-series="${esc(s.name)}" d="${d}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round"/>`,
    );
    if (s.points.length > 0 && pw / s.points.length > 30)
      for (const p of s.points)
        parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${color}"/>`);
  });
  return svg(box.width, box.height, parts.join(''));
}

export interface BarRow {
  readonly category: string;
  readonly values: readonly number[];
}

/** Horizontal stacked bars: one row per category, one coloured segment per field, total at the end. */
export function stackedBarsSvg(
  box: { width: number; height: number },
  fields: readonly string[],
  rows: readonly BarRow[],
): string {
  const longest = Math.max(...rows.map((r) => r.category.length));
  const left = Math.min(box.width * 0.4, 12 + longest * 6.5);
  const bottom = 20;
  const pw = box.width - left - 40;
  const ph = box.height - bottom - 4;
  const totals = rows.map((r) => r.values.reduce((a, b) => a + b, 0));
  const xt = valueTicks(Math.max(...totals), totals.every(Number.isInteger));
  const xmax = xt.at(-1)!;
  const x = (v: number) => left + (v / xmax) * pw;
  const band = ph / rows.length;
  const barH = Math.min(28, band * 0.7);
  const parts: string[] = [];
  for (const v of xt) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="4" y2="${4 + ph}" stroke="${THEME.grid}"/>`);
    parts.push(text(x(v), box.height - 5, short(v), 'middle'));
  }
  rows.forEach((r, i) => {
    const cy = 4 + band * i + band / 2;
    parts.push(text(left - 8, cy + 4, r.category, 'end', `fill="${THEME.text}"`));
    let acc = 0;
    r.values.forEach((v, k) => {
      if (v <= 0) return;
      parts.push(
        `<rect class="bar" x="${x(acc).toFixed(1)}" y="${(cy - barH / 2).toFixed(1)}" width="${Math.max(1, x(acc + v) - x(acc)).toFixed(1)}" height="${barH.toFixed(1)}" fill="${colorFor(fields[k]!, k)}"/>`,
      );
      acc += v;
    });
    parts.push(text(x(acc) + 5, cy + 4, short(totals[i]!), 'start', `fill="${THEME.text}"`));
  });
  return svg(box.width, box.height, parts.join(''));
}

export interface HeatCell {
  readonly t: number;
  readonly category: string;
  readonly value: number;
}

/** Dark to bright orange (Grafana's `Oranges` scheme on a dark theme). */
const ORANGES = ['#3b1a06', '#7f2704', '#d94801', '#fd8d3c', '#fdd0a2'];

function orange(f: number): string {
  const pos = Math.min(1, Math.max(0, f)) * (ORANGES.length - 1);
  const i = Math.min(ORANGES.length - 2, Math.floor(pos));
  const mix = (a: string, b: string, k: number) =>
    Math.round(Number.parseInt(a, 16) + (Number.parseInt(b, 16) - Number.parseInt(a, 16)) * k)
      .toString(16)
      .padStart(2, '0');
  const [a, b] = [ORANGES[i]!, ORANGES[i + 1]!];
  const k = pos - i;
  return `#${mix(a.slice(1, 3), b.slice(1, 3), k)}${mix(a.slice(3, 5), b.slice(3, 5), k)}${mix(a.slice(5, 7), b.slice(5, 7), k)}`;
}

/**
 * One row per category (busiest first), one cell per time bucket; colour by the square root of the
 * value so a burst does not wash out the normal hours.
 */
export function heatmapSvg(box: TimeBox & { intervalMs: number }, cells: readonly HeatCell[]): string {
  const totals = new Map<string, number>();
  for (const c of cells) totals.set(c.category, (totals.get(c.category) ?? 0) + c.value);
  const categories = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)!);
  const longest = Math.max(...categories.map((c) => c.length));
  const left = Math.min(box.width * 0.3, 12 + longest * 6.5);
  const bottom = 34;
  const pw = box.width - left - 10;
  const ph = box.height - bottom - 4;
  const rowH = ph / categories.length;
  const max = Math.max(1e-9, ...cells.map((c) => c.value));
  const x = (t: number) => left + ((t - box.from) / (box.to - box.from)) * pw;
  const cellW = Math.max(1, (box.intervalMs / (box.to - box.from)) * pw - 1);
  const parts: string[] = [];
  categories.forEach((c, i) => {
    parts.push(text(left - 8, 4 + rowH * i + rowH / 2 + 4, c, 'end', `fill="${THEME.text}"`));
  });
  for (const c of cells) {
    const i = categories.indexOf(c.category);
    parts.push(
      `<rect class="cell" x="${x(c.t).toFixed(1)}" y="${(4 + rowH * i + 0.5).toFixed(1)}" width="${cellW.toFixed(1)}" height="${(rowH - 1).toFixed(1)}" fill="${orange(Math.sqrt(c.value / max))}"/>`,
    );
  }
  for (const tick of timeTicks(box.from, box.to, pw))
    parts.push(text(x(tick.t), 4 + ph + 14, tick.label, 'middle'));
  // The colour scale, bottom right.
  const sw = 12;
  const scaleX = box.width - 10 - ORANGES.length * 2 * sw - 60;
  const steps = ORANGES.length * 2;
  for (let k = 0; k < steps; k++)
    parts.push(
      `<rect x="${scaleX + 30 + k * sw}" y="${box.height - 12}" width="${sw}" height="8" fill="${orange(k / (steps - 1))}"/>`,
    );
  parts.push(text(scaleX + 24, box.height - 4, '0', 'end'));
  parts.push(text(scaleX + 36 + steps * sw, box.height - 4, short(max), 'start'));
  return svg(box.width, box.height, parts.join(''));
}

export interface Slice {
  readonly name: string;
  readonly value: number;
}

/** A donut; the legend (value, percent) is drawn by the page beside it. */
export function donutSvg(box: { width: number; height: number }, slices: readonly Slice[]): string {
  const total = slices.reduce((a, s) => a + s.value, 0) || 1;
  const r = Math.min(box.width, box.height) / 2 - 6;
  const inner = r * 0.55;
  const cx = box.width / 2;
  const cy = box.height / 2;
  const at = (f: number, radius: number) => {
    const a = f * 2 * Math.PI - Math.PI / 2;
    return `${(cx + radius * Math.cos(a)).toFixed(2)},${(cy + radius * Math.sin(a)).toFixed(2)}`;
  };
  const parts: string[] = [];
  let acc = 0;
  slices.forEach((s, i) => {
    // A whole circle is not an arc: keep every slice just short of one turn.
    const f0 = acc / total;
    const f1 = Math.min((acc + s.value) / total, f0 + 0.99999);
    acc += s.value;
    const large = f1 - f0 > 0.5 ? 1 : 0;
    parts.push(
      `<path class="slice" data-slice="${esc(s.name)}" d="M${at(f0, r)}A${r},${r} 0 ${large} 1 ${at(f1, r)}L${at(f1, inner)}A${inner},${inner} 0 ${large} 0 ${at(f0, inner)}Z" fill="${colorFor(s.name, i)}" stroke="${THEME.panel}" stroke-width="1"/>`,
    );
  });
  return svg(box.width, box.height, parts.join(''));
}
