// The live cluster page: one query for the picture, then three graphql-ws subscriptions
// (leaderChanged, clusterEvents, events) keep it current. No build step, no framework.

const NODE = 'id url role term lastSeenAt';
const state = { term: 0, leader: null, nodes: new Map() };
const $ = (id) => document.getElementById(id);
const time = (iso) => new Date(iso).toLocaleTimeString();
const MAX_FEED = 200;

async function graphql(query) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data;
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
      div.innerHTML =
        '<span class="role"></span><div class="id"></div><div class="meta url"></div><div class="meta seen"></div>';
      div.querySelector('.role').textContent = down ? 'DOWN' : role;
      div.querySelector('.id').textContent = n.id;
      div.querySelector('.url').textContent = `${n.url} · term ${n.term}`;
      div.querySelector('.seen').textContent = n.lastSeenAt
        ? `last seen ${seen < 1 ? 'just now' : `${Math.round(seen)} s ago`}`
        : 'never seen';
      return div;
    });
  $('nodes').replaceChildren(...cards);
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
    for (const n of cluster.nodes) state.nodes.set(n.id, n);
    render();
  } catch (error) {
    $('summary').textContent = `cannot reach the gateway: ${error.message}`;
  }
}

function subscribe(client, query, onData) {
  client.subscribe({ query }, { next: (r) => r.data && onData(r.data), error: () => {}, complete: () => {} });
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
subscribe(
  client,
  'subscription { clusterEvents { nodeId term from to reason at } }',
  ({ clusterEvents: e }) => {
    state.term = Math.max(state.term, e.term);
    const node = state.nodes.get(e.nodeId);
    if (node) node.role = e.to;
    addToFeed($('election'), e.at, `${e.nodeId} ${e.from} → ${e.to} (term ${e.term}): ${e.reason}`);
    render();
  },
);
subscribe(
  client,
  'subscription { events { position stream type term nodeId createdAt } }',
  ({ events: e }) => {
    addToFeed($('events'), e.createdAt, `#${e.position} ${e.type} ${e.stream} (term ${e.term}, ${e.nodeId})`);
  },
);
refresh();
setInterval(refresh, 2000);
