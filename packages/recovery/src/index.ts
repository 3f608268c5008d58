export * from './rtt.js';
export * from './ack-tracker.js';
export * from './sent-packet.js';
export * from './congestion.js';
export * from './new-reno.js';
export * from './loss-detection.js';
