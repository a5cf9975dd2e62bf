/**
 * The types whose answer is the answering process's own view — `Cluster` is the cluster as the
 * node (or the gateway) that answers sees it. The gateway answers a root field of such a type (or
 * a root field marked itself) from what it knows, instead of forwarding the operation to a node as
 * it comes (gateway/http/graphql-proxy.ts): marking a type here is all a new such field needs.
 * A GraphQL extension, so it travels in the built schema and stays out of the SDL clients see.
 */
import { type GraphQLField, type GraphQLSchema, getNamedType } from 'graphql';
import { Extensions } from 'type-graphql';

const KEY = 'processLocal';

/** Marks an object type (or a root field) whose answer is the answering process's own view. */
export function ProcessLocal(): MethodDecorator & PropertyDecorator & ClassDecorator {
  return Extensions({ [KEY]: true });
}

function marked(field: GraphQLField<unknown, unknown>): boolean {
  return field.extensions[KEY] === true || getNamedType(field.type).extensions[KEY] === true;
}

/** The root fields of queries and mutations whose answer is the answering process's own view. */
export function processLocalRootFields(schema: GraphQLSchema): ReadonlySet<string> {
  const roots = [schema.getQueryType(), schema.getMutationType()];
  return new Set(
    roots.flatMap((root) =>
      Object.values(root?.getFields() ?? {})
        .filter(marked)
        .map((field) => field.name),
    ),
  );
}
