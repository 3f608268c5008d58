export * from './runs.js';
export * from './wire-arbitraries.js';
