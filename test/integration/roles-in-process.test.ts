// On the in-process bus every role shares one process: a collector started without the store would
// answer 2xx for events nothing stores. vigil refuses that split at start (roles split across
// processes need Kafka), and still starts the subsets that lose nothing.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';

describe('roles on the in-process bus', () => {
  it.each([[['collector']], [['collector', 'detect', 'respond', 'export']]] as const)(
    'refuses %j: the collector would acknowledge what no store keeps',
    async (roles) => {
      const dataDir = tempDataDir();
      await expect(startTestVigil({ roles: [...roles], dataDir })).rejects.toThrow(
        /--roles: collector without store needs KAFKA_BROKERS/,
      );
      // Refused before anything opened: no store was created in the data directory.
      expect(existsSync(dataDir) ? readdirSync(dataDir).filter((f) => f !== 'keys') : []).toEqual([]);
    },
  );

  it('starts collector with store (the store in the same process makes the 2xx durable)', async () => {
    const v = await startTestVigil({ roles: ['collector', 'store'] });
    try {
      expect(v.app.collectorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await v.stop();
    }
  });
});
