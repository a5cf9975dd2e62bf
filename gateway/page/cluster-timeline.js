// The timeline of terms and leaders, from the election transitions the page holds: who led
// which term from when to when, whether it came by a transfer or an election (a failover when a
// leader was lost), and how long writes were unavailable — from the old leader's loss (it stepped
// down, or another node started campaigning) to the next leader.

/** The terms, oldest first: { term, leader, start, end, kind, gapMs }. */
function leaderTerms(transitions) {
  const sorted = [...transitions].sort((a, b) => new Date(a.at) - new Date(b.at));
  const terms = [];
  let current = null;
  let lostAt = null;
  for (const e of sorted) {
    const at = new Date(e.at).getTime();
    if (e.to === 'LEADER') {
      if (current && current.end === null) current.end = at;
      const transfer = sorted.some((t) => t.term === e.term && /transfer/.test(t.reason));
      current = {
        term: e.term,
        leader: e.nodeId,
        start: at,
        end: null,
        kind: transfer ? 'transfer' : terms.length === 0 ? 'election' : 'failover',
        gapMs: lostAt === null ? null : Math.max(0, at - lostAt),
      };
      terms.push(current);
      lostAt = null;
    } else if (current && current.end === null) {
      const stepDown = e.nodeId === current.leader && e.from === 'LEADER';
      // A follower that stopped hearing from the leader starts campaigning (a PreVote round keeps
      // the term): the first sign of a lost leader that the transitions carry.
      const campaign = e.nodeId !== current.leader && e.term >= current.term && e.to === 'CANDIDATE';
      if (stepDown || campaign) {
        current.end = at;
        lostAt = at;
      }
    }
  }
  return terms;
}

const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

// Called by cluster-page.js (a classic script: the two share their top-level names).
// biome-ignore lint/correctness/noUnusedVariables: used by cluster-page.js
function renderTimeline(transitions) {
  const terms = leaderTerms(transitions);
  const now = Date.now();
  const first = terms[0]?.start ?? now;
  const span = Math.max(1, now - first);
  const bar = document.getElementById('timeline-bar');
  bar.replaceChildren(
    ...terms.map((t) => {
      const seg = document.createElement('div');
      seg.className = `segment ${t.kind}`;
      seg.style.left = `${((t.start - first) / span) * 100}%`;
      seg.style.width = `${Math.max(0.5, (((t.end ?? now) - t.start) / span) * 100)}%`;
      seg.title = `term ${t.term}: ${t.leader}`;
      seg.textContent = t.leader;
      return seg;
    }),
  );
  const list = document.getElementById('timeline');
  list.replaceChildren(
    ...terms.reverse().map((t) => {
      const li = document.createElement('li');
      li.dataset.term = String(t.term);
      li.dataset.leader = t.leader;
      li.dataset.kind = t.kind;
      const led =
        t.end === null ? `leads since ${time(new Date(t.start))}` : `led ${seconds(t.end - t.start)}`;
      const gap = t.gapMs === null ? '' : ` · writes unavailable ${seconds(t.gapMs)}`;
      li.innerHTML = '<span class="kind"></span><span class="what"></span>';
      li.querySelector('.kind').textContent = t.kind;
      li.querySelector('.what').textContent = `term ${t.term}: ${t.leader} ${led}${gap}`;
      return li;
    }),
  );
}
