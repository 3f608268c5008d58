export * from './alerts.js';
export * from './codec.js';
export * from './messages.js';
export * from './key-schedule.js';
export * from './crypto-stream.js';
export * from './x509.js';
export * from './verify.js';
export * from './self-signed.js';
