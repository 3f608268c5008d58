export * from './clock.js';
export * from './endpoint.js';
export * from './connection.js';
export * from './stream.js';
export * from './keylog.js';
export * from './qlog-file.js';
