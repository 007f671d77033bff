// VIGIL_EXPORT_* configuration: which sinks it makes, and the mistakes it names.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { parseKinds, sinksFromEnv } from '../../../src/export/index.js';

describe('export configuration', () => {
  it('makes one sink per configured destination, none by default', () => {
    expect(sinksFromEnv(loadConfig({}).env)).toEqual([]);
    const env = loadConfig({
      VIGIL_EXPORT_SPLUNK_URL: 'https://splunk:8088',
      VIGIL_EXPORT_SPLUNK_TOKEN: 't',
      VIGIL_EXPORT_ELASTIC_URL: 'https://es:9200',
      VIGIL_EXPORT_SYSLOG_ADDRESS: 'siem.example:6514',
      VIGIL_EXPORT_OCSF_FILE: '/tmp/x.ndjson',
      VIGIL_EXPORT_OCSF_URL: 'https://lake/ingest',
    }).env;
    expect(sinksFromEnv(env).map((s) => s.name)).toEqual([
      'splunk',
      'elastic',
      'syslog',
      'ocsf-file',
      'ocsf-http',
    ]);
    expect(env.VIGIL_EXPORT_INTERVAL).toBe(5_000);
  });

  it('names the key that is wrong', () => {
    expect(() => loadConfig({ VIGIL_EXPORT_SPLUNK_URL: 'https://splunk:8088' })).toThrow(
      /VIGIL_EXPORT_SPLUNK_TOKEN/,
    );
    expect(() => loadConfig({ VIGIL_EXPORT_SYSLOG_ADDRESS: 'no-port' })).toThrow(
      /VIGIL_EXPORT_SYSLOG_ADDRESS: must be host:port/,
    );
  });

  it('reads record kinds, singular or plural, and refuses unknown ones', () => {
    expect(parseKinds('findings, incident,actions,finding')).toEqual(['finding', 'incident', 'action']);
    expect(() => parseKinds('finding,alerts')).toThrow('unknown export kind "alert"');
  });
});
