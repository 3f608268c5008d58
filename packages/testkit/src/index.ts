export * from './runs.js';
export * from './wire-arbitraries.js';
export * from './vectors/quic-initial.js';
export * from './vectors/rfc8448.js';
export * from './tls-pair.js';
export * from './tls-pki.js';
export * from './tls-over-tcp.js';
