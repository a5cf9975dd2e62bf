/**
 * A document preview: a GraphQL request that names an operation its document does not have. A
 * node's Apollo Server parses and validates the document, keeps it in its document cache (keyed
 * by the query text's hash), and only then looks for the operation — which it does not find: it
 * answers 400 `Unknown operation named "…"` and executes nothing. The gateway previews to the
 * followers each write document it forwards to the leader (gateway/routing/write-documents.ts),
 * so a follower elected later finds the document validated: validating one it has never seen
 * took 1.0–3.5 ms of a new leader's first write, the largest step between its arrival and its
 * append (README, _Failover through the gateway_).
 */
export const PREVIEW_OPERATION = '__ensembleDocumentPreview';

/** The body of a preview of `query`. */
export function previewBody(query: string): string {
  return JSON.stringify({ query, operationName: PREVIEW_OPERATION });
}
