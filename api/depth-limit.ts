/**
 * A validation rule refusing operations nested deeper than a limit. Only introspection types are
 * recursive in this schema (`__type { fields { type { fields … } } }`), so they count too, except
 * `ofType`: it only unwraps a type reference and cannot fan out, and the standard introspection
 * query nests it 9 deep.
 */
import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export const DEFAULT_MAX_DEPTH = 12;

export function depthLimitRule(maxDepth = DEFAULT_MAX_DEPTH): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }

    // Deepest field nesting below a selection set; fragment cycles are NoFragmentCycles' to report.
    const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
      let deepest = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const own = sel.name.value === 'ofType' ? 0 : 1;
          const below = sel.selectionSet ? depthOf(sel.selectionSet, visiting) : 0;
          deepest = Math.max(deepest, own + below);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet, visiting));
        } else {
          const name = sel.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visiting.has(name)) continue;
          visiting.add(name);
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, visiting));
          visiting.delete(name);
        }
      }
      return deepest;
    };

    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > maxDepth) {
          const name = node.name ? `'${node.name.value}' ` : '';
          context.reportError(
            new GraphQLError(`The operation ${name}is nested ${depth} deep; the limit is ${maxDepth}.`, {
              nodes: [node],
            }),
          );
        }
      },
    };
  };
}
