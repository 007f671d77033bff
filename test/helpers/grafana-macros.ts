// What Grafana and the ClickHouse data source plugin (v4.20) do to a panel's SQL before ClickHouse
// sees it: Grafana interpolates the dashboard variables, then the plugin's backend expands its
// macros against the panel's time range and interval. The macro rules follow the plugin
// (grafana/clickhouse-datasource @ 1d04063a31fb30f9582cd0b3aeaacb7d350b0dcf, pkg/macros/macros.go
// and its tests): since v4.19 (macropro) no macro expands inside a comment (`--`, `/* */`) or a
// quoted region ('…' with '' and \' escapes, `…`, $tag$…$tag$), which stay verbatim; an unknown
// `$__name` is left as it is; macros nested in another macro's arguments expand (v4.20). The macro
// outputs are those of macros.go for the macros vigil's dashboards use.
export interface GrafanaQueryContext {
  /** Time range, epoch ms. */
  readonly from: number;
  readonly to: number;
  /** The panel interval ($__interval), ms. */
  readonly intervalMs: number;
  /** Dashboard variable values by name (single-value variables). */
  readonly variables: Readonly<Record<string, string>>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const dateTime = (ms: number) => `toDateTime(${seconds(ms)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;

type Macro = (args: string[], ctx: GrafanaQueryContext) => string;

function oneArg(name: string, args: string[]): string {
  if (args.length !== 1 || !args[0])
    throw new Error(`$__${name}: expected 1 argument, received ${args.length}`);
  return args[0];
}

const MACROS: Record<string, { args: boolean; expand: Macro }> = {
  fromTime: { args: false, expand: (_a, c) => dateTime(c.from) },
  toTime: { args: false, expand: (_a, c) => dateTime(c.to) },
  fromTime_ms: { args: false, expand: (_a, c) => dateTime64(c.from) },
  toTime_ms: { args: false, expand: (_a, c) => dateTime64(c.to) },
  interval_s: { args: false, expand: (_a, c) => String(Math.max(1, seconds(c.intervalMs))) },
  timeFilter: {
    args: true,
    expand: (a, c) => {
      const col = oneArg('timeFilter', a);
      return `${col} >= ${dateTime(c.from)} AND ${col} <= ${dateTime(c.to)}`;
    },
  },
  timeFilter_ms: {
    args: true,
    expand: (a, c) => {
      const col = oneArg('timeFilter_ms', a);
      return `${col} >= ${dateTime64(c.from)} AND ${col} <= ${dateTime64(c.to)}`;
    },
  },
  dateFilter: {
    args: true,
    expand: (a, c) => {
      const col = oneArg('dateFilter', a);
      return `${col} >= ${date(c.from)} AND ${col} <= ${date(c.to)}`;
    },
  },
  timeInterval: {
    args: true,
    expand: (a, c) =>
      `toStartOfInterval(toDateTime(${oneArg('timeInterval', a)}), INTERVAL ${Math.max(1, seconds(c.intervalMs))} second)`,
  },
  timeInterval_ms: {
    args: true,
    expand: (a, c) =>
      `toStartOfInterval(toDateTime64(${oneArg('timeInterval_ms', a)}, 3), INTERVAL ${Math.max(1, Math.trunc(c.intervalMs))} millisecond)`,
  },
};

/** Grafana's variable interpolation: `${name}`, `${name:raw}`, `$name`, `[[name]]`. */
export function interpolateVariables(sql: string, variables: Readonly<Record<string, string>>): string {
  const value = (name: string, whole: string) => {
    if (name.startsWith('__')) return whole; // a macro or a Grafana global: not a dashboard variable
    if (!Object.hasOwn(variables, name)) throw new Error(`unknown dashboard variable ${whole}`);
    return variables[name]!;
  };
  return sql
    .replace(/\$\{(\w+)(?::raw)?\}/g, (whole, name: string) => value(name, whole))
    .replace(/\[\[(\w+)\]\]/g, (whole, name: string) => value(name, whole))
    .replace(/\$(\w+)/g, (whole, name: string) => value(name, whole));
}

/**
 * The regions where the plugin expands no macro, as [start, end) offsets: comments and quoted
 * text, with the quoting rules the plugin gives its macro engine (clickHouseComments).
 */
function inertRegions(sql: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const two = sql.slice(i, i + 2);
    let end = -1;
    if (two === '--') {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? sql.length : nl;
    } else if (two === '/*') {
      const close = sql.indexOf('*/', i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (ch === "'" || ch === '`') {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (ch === "'" && sql[j] === '\\') j++;
        else if (sql[j] === ch) {
          if (sql[j + 1] === ch) j++;
          else break;
        }
      }
      end = Math.min(sql.length, j + 1);
    } else if (ch === '$') {
      const tag = /^\$(\w*)\$/.exec(sql.slice(i));
      if (tag && !tag[1]!.startsWith('__')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? sql.length : close + tag[0].length;
      }
    }
    if (end > i) {
      out.push([i, end]);
      i = end;
    } else i++;
  }
  return out;
}

/** The plugin's macro expansion (see the header for its rules). */
export function expandMacros(sql: string, ctx: GrafanaQueryContext): string {
  const inert = inertRegions(sql);
  const isInert = (at: number) => inert.some(([a, b]) => at >= a && at < b);
  let out = '';
  let i = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const name = m[1]!;
    const macro = MACROS[name];
    // Inside a comment or a quoted region, or a macro the plugin does not know: left as it is.
    if (!macro || isInert(m.index)) continue;
    out += sql.slice(i, m.index);
    let end = m.index + m[0].length;
    let args: string[] = [];
    if (macro.args) {
      if (sql[end] !== '(') throw new Error(`$__${name} needs (arguments)`);
      // Arguments end at the matching parenthesis; commas split them only at depth 1.
      let depth = 0;
      let cur = '';
      for (; end < sql.length; end++) {
        const ch = sql[end]!;
        if (ch === '(') {
          if (depth++ > 0) cur += ch;
        } else if (ch === ')') {
          if (--depth === 0) break;
          cur += ch;
        } else if (ch === ',' && depth === 1) {
          args.push(cur.trim());
          cur = '';
        } else cur += ch;
      }
      if (depth !== 0) throw new Error(`$__${name}: unbalanced parentheses`);
      args.push(cur.trim());
      args = args.filter((a, k) => a !== '' || k < args.length - 1).map((a) => expandMacros(a, ctx));
      end++;
    }
    out += macro.expand(args, ctx);
    i = end;
    re.lastIndex = end;
  }
  return out + sql.slice(i);
}

/** Variables first (Grafana's frontend), then macros (the plugin's backend). */
export function renderGrafanaSql(sql: string, ctx: GrafanaQueryContext): string {
  return expandMacros(interpolateVariables(sql, ctx.variables), ctx);
}
