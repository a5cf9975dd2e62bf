/**
 * `claim_fence`: a new leader's claim of the write fence in one statement, so in one round trip
 * and one transaction (it was six: begin, the Node row, the lock, the fence row, the append,
 * commit — each a wake-up of two processes, tens of ms on a loaded machine, on the path from the
 * election to the first write):
 *
 *  1. this node's Node row (role LEADER, its term and URL: followers learn the leader's URL);
 *  2. lock the fence row (the first claim ever, with no row to lock, locks the table);
 *  3. the fence already ours for this term: answer `held` (a re-claim is a no-op); held by this
 *     or a newer term of another node: answer `refused` with that fence;
 *  4. else write the fence row and append LeaderElected through `append_batch` (under the new
 *     fence, in this transaction): answer `claimed` with append_batch's answer.
 *
 * p_node: { id, url, term }; p_appends: append_batch's first argument (the LeaderElected append).
 * Returns { kind: 'held' } | { kind: 'refused', term, node } | { kind: 'claimed', appended }.
 *
 * A rehearsal (p_node { rehearse: true }) runs every statement of a claim on no row — it writes
 * no fence or Node row and locks none, so it never waits for, nor delays, a leader's appends —
 * then passes p_appends to `append_batch`, and answers { kind: 'rehearsed', appended }: pooled
 * connections pass a LeaderElected under the rehearsal fence, which `append_batch` runs on rows
 * and undoes (./projection/append-batch.sql.ts). A session runs a PL/pgSQL function's statements
 * cold the first time (parsed, looked up in the catalogs, planned: a claim 3–5 ms cold against
 * ≈ 1 warm); every pooled connection rehearses once when it opens (warm-connection.ts), so a new
 * leader's claim runs warm. Each statement is written once, with the rehearsal as a condition
 * inside it, because what warms is running that very statement.
 * Current code, installed by migrations like the projection (see ./projection/project-events.sql.ts).
 */
export const CLAIM_FENCE_SQL = `
  create or replace function claim_fence(p_node jsonb, p_appends jsonb) returns jsonb
    language plpgsql volatile as $$
  declare
    v_id text := p_node ->> 'id';
    v_term bigint := (p_node ->> 'term')::bigint;
    v_rehearse boolean := coalesce((p_node ->> 'rehearse')::boolean, false);
    v_fenced_term bigint;
    v_fenced_node text;
  begin
    insert into node (id, url, role, term, last_seen_at)
    select v_id, p_node ->> 'url', 'LEADER', v_term, now() where not v_rehearse
    on conflict (id) do update
      set url = excluded.url, role = excluded.role, term = excluded.term, last_seen_at = excluded.last_seen_at;

    select l.term, l.node_id into v_fenced_term, v_fenced_node
      from leadership l where l.singleton and not v_rehearse for update;
    if not found and not v_rehearse then
      -- A row lock cannot hold a row that does not exist: lock out other first claims until commit.
      lock table leadership in exclusive mode;
      select l.term, l.node_id into v_fenced_term, v_fenced_node from leadership l where l.singleton;
    end if;

    if not v_rehearse and v_fenced_term = v_term and v_fenced_node = v_id then
      return jsonb_build_object('kind', 'held');
    end if;
    if not v_rehearse and v_fenced_term >= v_term then
      return jsonb_build_object('kind', 'refused', 'term', v_fenced_term, 'node', v_fenced_node);
    end if;

    insert into leadership (singleton, term, node_id, claimed_at)
    select true, v_term, v_id, now() where not v_rehearse
    on conflict (singleton) do update
      set term = excluded.term, node_id = excluded.node_id, claimed_at = excluded.claimed_at;

    return jsonb_build_object(
      'kind', case when v_rehearse then 'rehearsed' else 'claimed' end,
      'appended', append_batch(p_appends, '{}'::bytea[]));
  end $$`;
