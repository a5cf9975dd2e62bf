/**
 * The FTP poller's traces when tracing is on: each new file forwarded to the leader starts a
 * trace of its own, `listings file import`, named by the file's sha256; the upload to the leader
 * continues it (to the node's import and append).
 */
import { inSpan } from '../../common/spans.js';
import { tracingOn } from '../../common/tracing.js';

export function importSpan<T>(
  file: { path: string; sha256: string; size: number },
  forward: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return forward();
  return inSpan(
    'listings file import',
    {
      root: true,
      attributes: { 'file.path': file.path, 'file.size': file.size, 'ensemble.file.sha256': file.sha256 },
    },
    forward,
  );
}
