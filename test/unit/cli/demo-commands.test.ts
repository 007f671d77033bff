// The commands `vigil demo` ends with: they must reach the demo's own store as the user types them.
import { describe, expect, it } from 'vitest';
import { resultCommands } from '../../../src/cli/demo/demo.js';

describe('the commands that show the demo results', () => {
  it('name the demo directory relative to where the user is, when it is below it', () => {
    expect(resultCommands('/work/project/.vigil/demo', {}, '/work/project')).toEqual([
      'vigil --data-dir .vigil/demo findings',
      'vigil --data-dir .vigil/demo incidents',
    ]);
  });

  it('name it absolutely elsewhere, quoted when the shell would split it', () => {
    expect(resultCommands('/srv/my data/demo', {}, '/work/project')[0]).toBe(
      "vigil --data-dir '/srv/my data/demo' findings",
    );
    expect(resultCommands("/srv/it's/demo", {}, '/work/project')[0]).toBe(
      "vigil --data-dir '/srv/it'\\''s/demo' findings",
    );
  });

  it('empty the variables that would send them to another store or through an admin API', () => {
    const env = {
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      VIGIL_CLI_TOKEN: 't',
      KAFKA_BROKERS: '127.0.0.1:9092',
    };
    expect(resultCommands('/w/.vigil/demo', env, '/w')[1]).toBe(
      'CLICKHOUSE_URL= VIGIL_CLI_TOKEN= vigil --data-dir .vigil/demo incidents',
    );
  });
});
