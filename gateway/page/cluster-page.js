// The live cluster page: one query for the picture and the history (the transitions the gateway
// kept, the log's tail), then three graphql-ws subscriptions (leaderChanged, clusterEvents,
// events) keep it current. Node cards add the gateway's /healthz view of each node; the
// timeline (cluster-timeline.js) is drawn from the transitions. Each live follower has a "transfer
// leadership" button (the transferLeadership mutation; the API token is asked for once and kept
// in sessionStorage). No build step, no framework.

const NODE = 'id url role term lastSeenAt';
const state = { term: 0, leader: null, nodes: new Map() };
const $ = (id) => document.getElementById(id);
const time = (iso) => new Date(iso).toLocaleTimeString();
const MAX_FEED = 200;
const TOKEN_KEY = 'ensemble-api-token';

class GraphqlError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
  }
}

async function graphql(query, variables = {}, headers = {}) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new GraphqlError(body.errors[0]);
  return body.data;
}

/** The API token: asked for once, kept for this tab's session. */
function apiToken() {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    token = (prompt('API token (API_TOKEN, or .data/api-token) to transfer leadership:') ?? '').trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
  }
  return token;
}

async function transferLeadership(to) {
  const token = apiToken();
  if (!token) return;
  $('action').textContent = `transferring leadership to ${to}…`;
  try {
    const { transferLeadership: c } = await graphql(
      'mutation ($to: ID) { transferLeadership(to: $to) { term leader { id } } }',
      { to },
      { authorization: `Bearer ${token}` },
    );
    $('action').textContent = `${c.leader.id} leads term ${c.term}`;
  } catch (error) {
    // A wrong token is forgotten, so that the next try asks again.
    if (error.code === 'UNAUTHENTICATED') sessionStorage.removeItem(TOKEN_KEY);
    $('action').textContent = `transfer to ${to} failed: ${error.code ?? 'error'}: ${error.message}`;
  }
}

function render() {
  const leader = state.leader;
  $('summary').textContent = leader
    ? `leader ${leader.id} · term ${state.term}`
    : `no leader known · term ${state.term}`;
  const cards = [...state.nodes.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((n) => {
      const isLeader = leader && leader.id === n.id;
      const seen = n.lastSeenAt ? (Date.now() - new Date(n.lastSeenAt).getTime()) / 1000 : Infinity;
      const down = !isLeader && seen > 3;
      const div = document.createElement('div');
      div.className = `node ${isLeader ? 'leader' : n.role === 'LEADER' ? 'follower' : n.role.toLowerCase()}${down ? ' down' : ''}`;
      div.dataset.node = n.id;
      // Only the announced leader is shown leading: a dead leader's last report says LEADER too.
      const role = isLeader ? 'LEADER' : n.role === 'LEADER' ? 'FOLLOWER' : n.role;
      div.dataset.role = role;
      div.innerHTML = '<span class="role"></span><div class="id"></div><dl class="facts"></dl>';
      div.querySelector('.role').textContent = down ? 'DOWN' : role;
      div.querySelector('.id').textContent = n.id;
      const facts = [
        ['term', String(n.term)],
        ['health', n.healthy === false ? `unhealthy: ${n.problem ?? '?'}` : n.healthy ? 'healthy' : '—'],
        ['database', databaseText(n.database)],
        ['drops', dropsText(n.drops)],
        ['last seen', n.lastSeenAt ? (seen < 1 ? 'just now' : `${Math.round(seen)} s ago`) : 'never'],
        ['url', n.url],
      ];
      div.querySelector('.facts').append(
        ...facts.flatMap(([name, value]) => {
          const dt = document.createElement('dt');
          dt.textContent = name;
          const dd = document.createElement('dd');
          dd.textContent = value;
          dd.title = value;
          dd.dataset.fact = name;
          return [dt, dd];
        }),
      );
      if (leader && !isLeader && !down) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.transferTo = n.id;
        button.textContent = 'transfer leadership';
        div.append(button);
      }
      return div;
    });
  $('nodes').replaceChildren(...cards);
}

function databaseText(db) {
  if (!db) return '—';
  if (db.standing && db.failingForMs === 0) return 'standing';
  const failing = `failing for ${(db.failingForMs / 1000).toFixed(1)} s`;
  return db.standing ? `standing, ${failing}` : `not standing, ${failing}`;
}

function dropsText(drops) {
  const reasons = Object.entries(drops ?? {}).filter(([reason, count]) => reason !== 'total' && count > 0);
  return reasons.length === 0 ? 'none' : reasons.map(([reason, count]) => `${reason} ${count}`).join(', ');
}

function addToFeed(list, at, text) {
  const li = document.createElement('li');
  li.innerHTML = '<time></time><span></span>';
  li.querySelector('time').textContent = time(at);
  li.querySelector('span').textContent = text;
  list.prepend(li);
  while (list.children.length > MAX_FEED) list.lastChild.remove();
}

async function refresh() {
  try {
    const { cluster } = await graphql(`{ cluster { term leader { ${NODE} } nodes { ${NODE} } } }`);
    state.term = cluster.term;
    state.leader = cluster.leader;
    for (const n of cluster.nodes) state.nodes.set(n.id, { ...(state.nodes.get(n.id) ?? {}), ...n });
    // The gateway's own view of each node: its health check's problem, database and drops.
    const health = await fetch('/healthz').then((r) => r.json());
    for (const h of health.nodes ?? []) {
      const n = h.id && state.nodes.get(h.id);
      if (n)
        Object.assign(n, { healthy: h.healthy, problem: h.problem, database: h.database, drops: h.drops });
    }
    render();
  } catch (error) {
    $('summary').textContent = `cannot reach the gateway: ${error.message}`;
  }
}

function subscribe(client, query, onData) {
  client.subscribe({ query }, { next: (r) => r.data && onData(r.data), error: () => {}, complete: () => {} });
}

// History: the transitions the gateway kept (dedupe by identity: a reconnect replays them), and
// the log's tail, then the live events after the last position shown (resumed on a reconnect).
const seenTransitions = new Set();
const transitions = [];
const TAIL = 50;
let lastPosition = null;
let events = null;

function showTransition(e) {
  const key = `${e.nodeId}|${e.term}|${e.at}|${e.to}`;
  if (seenTransitions.has(key)) return;
  seenTransitions.add(key);
  transitions.push(e);
  renderTimeline(transitions);
  state.term = Math.max(state.term, e.term);
  const node = state.nodes.get(e.nodeId);
  if (node) node.role = e.to;
  addToFeed($('election'), e.at, `${e.nodeId} ${e.from} → ${e.to} (term ${e.term}): ${e.reason}`);
  render();
}

function showEvent(e) {
  if (lastPosition !== null && e.position <= lastPosition) return;
  lastPosition = e.position;
  addToFeed($('events'), e.createdAt, `#${e.position} ${e.type} ${e.stream} (term ${e.term}, ${e.nodeId})`);
}

const EVENT = 'position stream type term nodeId createdAt';

/** On each (re)connection: the tail once, then the live feed from just after what is shown. */
async function followEvents() {
  events?.();
  events = null;
  try {
    if (lastPosition === null) {
      const { headPosition } = await graphql('{ headPosition }');
      const { events: tail } = await graphql(
        `query ($after: Int, $first: Int) { events(afterPosition: $after, first: $first) { ${EVENT} } }`,
        { after: Math.max(0, headPosition - TAIL), first: TAIL },
      );
      lastPosition = Math.max(0, headPosition - TAIL);
      for (const e of tail) showEvent(e);
      lastPosition = Math.max(lastPosition, headPosition);
    }
  } catch (error) {
    $('action').textContent = `cannot read the event log: ${error.message}`;
  }
  events = client.subscribe(
    {
      query: `subscription ($after: Int) { events(afterPosition: $after) { ${EVENT} } }`,
      variables: { after: lastPosition ?? undefined },
    },
    { next: (r) => r.data && showEvent(r.data.events), error: () => {}, complete: () => {} },
  );
}

const client = graphqlWs.createClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  on: {
    connected: () => {
      $('connection').textContent = 'live';
      $('connection').className = 'live';
      refresh();
      void followEvents();
    },
    closed: () => {
      $('connection').textContent = 'reconnecting…';
      $('connection').className = '';
    },
  },
});
subscribe(client, `subscription { leaderChanged { term at leader { ${NODE} } } }`, ({ leaderChanged: c }) => {
  state.term = Math.max(state.term, c.term);
  state.leader = c.leader;
  state.nodes.set(c.leader.id, { ...(state.nodes.get(c.leader.id) ?? {}), ...c.leader });
  addToFeed($('election'), c.at, `★ ${c.leader.id} leads term ${c.term}`);
  render();
});
// From far back: every transition the gateway kept, then the live ones.
subscribe(
  client,
  `subscription { clusterEvents(since: "1970-01-01T00:00:00Z") { nodeId term from to reason at } }`,
  ({ clusterEvents: e }) => showTransition(e),
);
// One listener for every card's button (the cards are rebuilt on each render).
$('nodes').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-transfer-to]');
  if (button) void transferLeadership(button.dataset.transferTo);
});
refresh();
setInterval(refresh, 2000);
