// The relay WebSocket protocol, one import path for every side: constants, message types,
// step evidence, limits and the parser at the edge. See docs/protocol.md.
export * from './constants.ts';
export type * from './messages.ts';
export * from './evidence.ts';
export * from './flows.ts';
export * from './limits.ts';
export * from './parse.ts';
