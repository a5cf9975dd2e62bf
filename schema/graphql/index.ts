/** The contract's GraphQL types as type-graphql classes, shared by the nodes and the gateway. */
export * from './args.js';
export * from './connections.js';
export * from './enums.js';
export * from './inputs.js';
export * from './process-local.js';
export * from './scalars.js';
export * from './types.js';
