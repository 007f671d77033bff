export * from './bus.js';
export { createInProcessBus } from './in-process.bus.js';
export { createKafkaBus, kafkaClientOptions } from './kafka.bus.js';
