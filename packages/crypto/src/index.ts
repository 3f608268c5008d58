export * from './provider.js';
export * from './cipher-suites.js';
export * from './hkdf-label.js';
export * from './node-provider.js';
export * from './noble-provider.js';
export * from './chacha20-block.js';
export * from './packet-protection.js';
export * from './header-protection-js.js';
