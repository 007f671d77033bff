export * from './bus.js';
export { createInProcessBus } from './in-process.bus.js';
export { createKafkaBus } from './kafka.bus.js';
