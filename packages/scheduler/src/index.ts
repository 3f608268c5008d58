export * from './heap.js';
export * from './scheduler.js';
