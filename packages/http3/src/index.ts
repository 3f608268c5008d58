export * from './qpack/index.js';
