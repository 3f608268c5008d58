export * from './decoder.js';
export * from './encoder.js';
export * from './errors.js';
export * from './dynamic-table.js';
export * from './huffman.js';
export * from './primitives.js';
export * from './qif.js';
export * from './static-table.js';
