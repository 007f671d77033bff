// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax is the subject
// The Grafana macro / variable substitution the dashboards test relies on.
import { describe, expect, it } from 'vitest';
import { expandMacros, interpolateVariables, renderGrafanaSql } from '../../helpers/grafana-macros.js';

const ctx = {
  from: Date.UTC(2026, 0, 1),
  to: Date.UTC(2026, 0, 2),
  intervalMs: 300_000,
  variables: { tenant: 'acme', identity: 'usr_k1_x' },
};

describe('Grafana SQL rendering', () => {
  it('interpolates ${var}, $var and [[var]], leaving $__ macros alone', () => {
    expect(
      interpolateVariables(
        "t = '${tenant}' AND a = '$identity' AND b = '[[tenant]]' AND $__timeFilter(x)",
        ctx.variables,
      ),
    ).toBe("t = 'acme' AND a = 'usr_k1_x' AND b = 'acme' AND $__timeFilter(x)");
    expect(() => interpolateVariables('${nope}', ctx.variables)).toThrow('unknown dashboard variable');
  });

  it('expands the plugin macros with second-precision DateTime bounds', () => {
    expect(expandMacros('WHERE $__timeFilter(minute)', ctx)).toBe(
      'WHERE minute >= toDateTime(1767225600) AND minute <= toDateTime(1767312000)',
    );
    expect(expandMacros('$__timeInterval(a.time)', ctx)).toBe(
      'toStartOfInterval(toDateTime(a.time), INTERVAL 300 second)',
    );
    expect(expandMacros('$__fromTime .. $__toTime_ms, $__interval_s', ctx)).toBe(
      'toDateTime(1767225600) .. fromUnixTimestamp64Milli(1767312000000), 300',
    );
    expect(expandMacros('$__timeFilter(toDateTime(x, 3))', ctx)).toContain('toDateTime(x, 3) >= toDateTime(');
    expect(() => expandMacros('$__timeFilter()', ctx)).toThrow('expected 1 argument');
  });

  // The plugin's rules since v4.19 (grafana/clickhouse-datasource pkg/macros/macros_test.go).
  it('leaves an unknown macro as it is', () => {
    expect(expandMacros('SELECT $__nope(x), $__fromTime', ctx)).toBe(
      'SELECT $__nope(x), toDateTime(1767225600)',
    );
  });

  it('expands no macro inside comments or quoted text, and keeps them verbatim', () => {
    const sql = [
      "SELECT '$__fromTime' AS s, `$__toTime` AS b, $doc$ $__fromTime $doc$ AS d -- $__toTime",
      "/* $__timeFilter(x) */ WHERE msg = 'it\\'s -- fine' AND $__fromTime",
    ].join('\n');
    expect(expandMacros(sql, ctx)).toBe(
      [
        "SELECT '$__fromTime' AS s, `$__toTime` AS b, $doc$ $__fromTime $doc$ AS d -- $__toTime",
        "/* $__timeFilter(x) */ WHERE msg = 'it\\'s -- fine' AND toDateTime(1767225600)",
      ].join('\n'),
    );
  });

  it("expands macros nested in another macro's arguments", () => {
    expect(expandMacros('$__timeInterval(if(x > $__fromTime, x, y))', ctx)).toBe(
      'toStartOfInterval(toDateTime(if(x > toDateTime(1767225600), x, y)), INTERVAL 300 second)',
    );
  });

  it('renders variables then macros', () => {
    expect(renderGrafanaSql("tenant = '${tenant}' AND $__timeFilter(minute)", ctx)).toBe(
      "tenant = 'acme' AND minute >= toDateTime(1767225600) AND minute <= toDateTime(1767312000)",
    );
  });
});
