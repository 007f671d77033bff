// What the Grafana ClickHouse data source (grafana-clickhouse-datasource) accepts in a saved
// dashboard, written down once from the plugin's own source so the dashboard tests check vigil's
// JSON against upstream values rather than against themselves. Source:
// github.com/grafana/clickhouse-datasource at 1d04063a31fb30f9582cd0b3aeaacb7d350b0dcf (v4.20.0).

// The plugin's own saved dashboards carry targets of this shape: src/dashboards/data-analysis.json
// (`editorType: "sql", format: 1, pluginVersion: "4.10.2", queryType: "table"`) and
// src/dashboards/system-dashboards.json (`editorType: "sql", format: 0, pluginVersion: "4.3.2",
// queryType: "timeseries"`).

/** The plugin id, and the release the dashboards are written for (docker-compose.yml pins it). */
export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';
export const CLICKHOUSE_PLUGIN_VERSION = '4.20.0';

/** `enum EditorType` in src/types/sql.ts. */
export const EDITOR_TYPES = ['sql', 'builder'] as const;

/**
 * `enum QueryType` in src/types/queryBuilder.ts, each with the Grafana frame format the plugin
 * pairs it with (src/data/utils.ts, mapQueryTypeToGrafanaFormat; sqlds' FormatQueryOption).
 */
export const QUERY_TYPE_FORMAT = { timeseries: 0, table: 1, logs: 2, traces: 3 } as const;
export type QueryType = keyof typeof QUERY_TYPE_FORMAT;

/**
 * The v3 query types. src/data/migration.ts (isV3CHQuery) migrates a saved target as a v3 query
 * when it has no `pluginVersion` >= 4.0.0 or has one of these as its `queryType`.
 */
export const V3_QUERY_TYPES = ['sql', 'builder'] as const;

/**
 * A variable query as the guided variable editor (v4.19.0+) stores it: `CHVariableQuery` and
 * `CHVariableQueryType` in src/data/CHVariableSupport.tsx. At run time only `rawSql` is read.
 */
export const VARIABLE_QUERY_TYPES = ['sql', 'databases', 'tables', 'columns', 'columnValues'] as const;
export const VARIABLE_QUERY_KEYS = [
  'refId',
  'queryType',
  'rawSql',
  'database',
  'table',
  'column',
  'mapKey',
  'columnIsMap',
] as const;
