// The part of a Grafana dashboard JSON the renderer reads, and running its panels' queries the way
// Grafana + the ClickHouse plugin would (variables, then macros: test/helpers/grafana-macros.ts).
// The query itself is passed in, so the same code reads the embedded store in a test or a
// ClickHouse HTTP endpoint elsewhere.
import { type GrafanaQueryContext, renderGrafanaSql } from '../grafana-macros.js';

export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface PanelSpec {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: GridPos;
  readonly targets: ReadonlyArray<{ readonly refId: string; readonly rawSql: string }>;
  readonly fieldConfig?: {
    readonly defaults?: {
      readonly unit?: string;
      readonly thresholds?: { readonly steps: ReadonlyArray<{ color: string; value: number | null }> };
    };
  };
  readonly options?: {
    readonly legend?: {
      readonly displayMode?: string;
      readonly placement?: string;
      readonly calcs?: string[];
    };
    readonly colorMode?: string;
    readonly orientation?: string;
    readonly pieType?: string;
  };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** ClickHouse's `JSON` output format: column names and types, then rows keyed by column. */
export interface QueryResult {
  readonly meta: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly data: ReadonlyArray<Record<string, unknown>>;
}

export type RunQuery = (sql: string) => Promise<QueryResult>;

/** One panel with what its queries returned (one result per target), or why they failed. */
export interface PanelData {
  readonly panel: PanelSpec;
  readonly results: readonly QueryResult[];
  readonly error?: string;
}

export const isTime = (t: string) => /^(Nullable\()?DateTime/.test(t);
export const isNumber = (t: string) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(t);
export const isText = (t: string) => /^(Nullable\()?(LowCardinality\()?(String|FixedString|Enum)/.test(t);

/** Runs every panel's targets; a failing query becomes the panel's error, not the page's. */
export async function queryPanels(
  dashboard: DashboardSpec,
  ctx: GrafanaQueryContext,
  query: RunQuery,
): Promise<PanelData[]> {
  const out: PanelData[] = [];
  for (const panel of dashboard.panels) {
    try {
      const results: QueryResult[] = [];
      for (const t of panel.targets) results.push(await query(renderGrafanaSql(t.rawSql, ctx)));
      out.push({ panel, results });
    } catch (err) {
      out.push({ panel, results: [], error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** Epoch ms of a ClickHouse date-time value (`iso` or the default `YYYY-MM-DD hh:mm:ss`, UTC). */
export function timeOf(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v);
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}
