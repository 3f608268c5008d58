export * from './runs.js';
export * from './wire-arbitraries.js';
export * from './vectors/quic-initial.js';
