/** Builds the executable schema from the type-graphql classes (no class-validator, no SDL file). */
import 'reflect-metadata';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { DateTimeScalar } from '../schema/graphql/index.js';
import { authChecker } from './auth.js';
import { MutationResolver, QueryResolver, SubscriptionResolver } from './resolvers.js';

export function buildEnsembleSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [QueryResolver, MutationResolver, SubscriptionResolver],
    validate: false,
    emitSchemaFile: false,
    authChecker,
    // type-graphql refuses to build subscriptions without a pubSub, even when every
    // subscription brings its own `subscribe`; this one is never published to.
    pubSub: createPubSub(),
    // Any `Date` left without an explicit type would map to DateTime, not type-graphql's DateTimeISO.
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  });
}
