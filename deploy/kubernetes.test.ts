/**
 * deploy/kubernetes checked against the code, as docker-compose.yml is (deploy-files.test.ts):
 * no cluster runs here, so the manifests are read as `kubectl apply -k` would read them
 * (kubernetes-manifests.ts) and every object is validated against the Kubernetes OpenAPI schemas
 * of the kubernetes-models package; then names, ports, URLs, secrets, probes and each
 * container's environment must agree with the config schemas. Where kubectl is installed (it
 * renders a kustomization offline), what `kubectl kustomize` renders must be those very objects.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { parseConfig } from '../common/config.js';
import { HEALTHZ_PATH } from '../common/node-health.js';
import { LIVEZ_PATH, READYZ_PATH } from '../common/probes.js';
import { STOP_DEADLINE_MS } from '../common/shutdown.js';
import { gatewayConfigSchema } from '../gateway/config.js';
import { alertConfigSchema } from '../mailer/config.js';
import { nodeConfigSchema } from '../nodes/config.js';
import { MAX_SHUTDOWN_TRANSFER_MS } from '../nodes/shutdown-transfer.js';
import { parsePeers } from '../nodes/transport/udp-transport.js';
import {
  type K8sObject,
  loadManifests,
  podEnvironment,
  readKustomization,
  selects,
} from './kubernetes-manifests.js';
import { schemaKeys } from './schema-keys.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'deploy', 'kubernetes');
const kustomization = readKustomization(dir);
const objects = loadManifests(dir, kustomization);
const ns = kustomization.namespace;

/** The config schema each compiled entry point validates its environment with. */
const SCHEMAS: Record<string, z.ZodType> = {
  'dist/nodes/main.js': nodeConfigSchema,
  'dist/gateway/main.js': gatewayConfigSchema,
  'dist/mailer/main.js': alertConfigSchema,
};

function one(kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} named ${name} in deploy/kubernetes`);
  return found[0] as K8sObject;
}
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const workloads = () => [...ofKind('StatefulSet'), ...ofKind('Deployment')];
const secrets = ofKind('Secret');

const nodes = one('StatefulSet', 'ensemble-node');
const gateway = one('Deployment', 'ensemble-gateway');
const podNames = Array.from({ length: nodes.spec.replicas }, (_, i) => `${nodes.metadata.name}-${i}`);
const fqdn = (host: string) => `${host}.${ns}.svc.cluster.local`;

/** The workload's only container. */
function container(workload: K8sObject) {
  const containers = workload.spec.template.spec.containers;
  assert.equal(containers.length, 1, `${workload.metadata.name}: one container`);
  return containers[0];
}
const envOf = (workload: K8sObject, pod = `${workload.metadata.name}-pod`) =>
  podEnvironment(container(workload).env ?? [], { name: pod, namespace: ns }, secrets);

const nodeConfigs = podNames.map((pod) => parseConfig(nodeConfigSchema, envOf(nodes, pod)));
const gatewayConfig = () => parseConfig(gatewayConfigSchema, envOf(gateway));

test('every file of deploy/kubernetes is in the kustomization, and every object validates against the Kubernetes schemas', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  assert.deepEqual([...kustomization.resources].sort(), files.sort());
  assert.equal(one('Namespace', ns).metadata.name, ns);
  // loadManifests validated each object; these are what the deployment is made of.
  assert.deepEqual([...new Set(objects.map((o) => o.kind))].sort(), [
    'Deployment',
    'Namespace',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'Secret',
    'Service',
    'StatefulSet',
  ]);
  const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(new Set(names).size, names.length, 'no object twice');
});

test('every container runs the Dockerfile image, non-root, with resources, and node itself gets SIGTERM', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^USER node$/m, 'the image runs as the node user (uid 1000)');
  assert.deepEqual(
    kustomization.images.map((i) => i.name),
    ['ensemble'],
  );
  for (const w of workloads()) {
    const c = container(w);
    const pod = w.spec.template.spec;
    assert.equal(c.image, 'ensemble:latest', `${w.metadata.name}: the image kustomization.yaml sets`);
    assert.equal(pod.securityContext.runAsNonRoot, true, `${w.metadata.name}: runAsNonRoot`);
    assert.equal(pod.securityContext.runAsUser, 1000, `${w.metadata.name}: the image's node user`);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
    // Exec form, no shell in between: the signal reaches node, which hands over and stops.
    assert.equal(c.command[0], 'node', `${w.metadata.name}: command ["node", "dist/….js"]`);
    assert.ok(
      SCHEMAS[c.command[1]],
      `${w.metadata.name}: runs ${c.command[1]}, which has no known config schema`,
    );
    assert.ok(
      pod.terminationGracePeriodSeconds * 1000 > STOP_DEADLINE_MS,
      `${w.metadata.name}: the grace period must outlast the stop deadline`,
    );
  }
  assert.ok(
    nodes.spec.template.spec.terminationGracePeriodSeconds * 1000 >
      MAX_SHUTDOWN_TRANSFER_MS + STOP_DEADLINE_MS,
    "the nodes' grace period must outlast the leader's hand-off and its stop",
  );
});

test("every container's environment is one its config schema knows and accepts", () => {
  for (const w of workloads()) {
    const c = container(w);
    const schema = SCHEMAS[c.command[1]] as z.ZodType;
    const known = new Set(schemaKeys(schema));
    const pods = w === nodes ? podNames : [`${w.metadata.name}-pod`];
    for (const pod of pods) {
      const env = envOf(w, pod);
      const unknown = Object.keys(env).filter((k) => !known.has(k));
      assert.deepEqual(
        unknown,
        [],
        `${w.metadata.name}: its config schema does not know ${unknown.join(', ')}`,
      );
      assert.doesNotThrow(() => parseConfig(schema, env), `${pod}: its environment is rejected`);
    }
  }
});

test('the StatefulSet, its headless Service, PEERS and the gateway agree on names, ids, ports and secrets', () => {
  const headless = one('Service', nodes.spec.serviceName);
  assert.equal(headless.spec.clusterIP, 'None');
  assert.equal(
    headless.spec.publishNotReadyAddresses,
    true,
    'peers must find each other before anyone is ready',
  );
  assert.equal(nodes.spec.replicas, 3);
  assert.equal(nodes.spec.podManagementPolicy, 'Parallel');
  assert.ok(selects(headless.spec.selector, nodes.spec.template.metadata.labels));
  assert.ok(selects(nodes.spec.selector.matchLabels, nodes.spec.template.metadata.labels));
  const gw = gatewayConfig();
  for (const [i, config] of nodeConfigs.entries()) {
    const pod = podNames[i] as string;
    assert.equal(config.nodeId, pod, 'NODE_ID is the pod name');
    const host = fqdn(`${pod}.${headless.metadata.name}`);
    assert.equal(new URL(config.nodeUrl).hostname, host);
    assert.deepEqual(
      parsePeers(envOf(nodes, pod).PEERS ?? '').map((p) => `${p.id}@${p.host}:${p.port}`),
      podNames.map((p) => `${p}@${fqdn(`${p}.${headless.metadata.name}`)}:${config.udpPort}`),
      'PEERS names every pod by its stable DNS name and UDP port',
    );
    assert.equal(config.bindHost, '0.0.0.0');
    assert.equal(config.dataDir, '/data');
    assert.equal(config.clusterSecret, gw.clusterSecret);
    assert.equal(config.apiToken, gw.apiToken);
    assert.equal(config.clusterId, gw.clusterId);
    assert.equal(config.gatewayUrl, gw.gatewayUrl, 'the nodes announce to the gateway Service');
  }
  assert.deepEqual(
    gw.nodeUrls,
    nodeConfigs.map((c) => c.nodeUrl),
    "NODE_URLS: every node's NODE_URL",
  );
  const front = one('Service', 'ensemble-gateway');
  assert.equal(new URL(gw.gatewayUrl).hostname, fqdn(front.metadata.name));
  assert.equal(Number(new URL(gw.gatewayUrl).port), front.spec.ports[0].port);
  assert.equal(gateway.spec.replicas, 2);
  const gwHeadless = one('Service', 'ensemble-gateway-headless');
  assert.equal(gwHeadless.spec.clusterIP, 'None');
  for (const s of [front, gwHeadless])
    assert.ok(selects(s.spec.selector, gateway.spec.template.metadata.labels));
  // The data dir on a PersistentVolumeClaim of each pod.
  const claim = nodes.spec.volumeClaimTemplates[0].metadata.name;
  assert.ok(
    container(nodes).volumeMounts.some(
      (m: { name: string; mountPath: string }) => m.name === claim && m.mountPath === '/data',
    ),
  );
});

test('ports agree between the config, the containers and the Services that select them', () => {
  const [config] = nodeConfigs;
  const declared = (w: K8sObject) =>
    container(w).ports.map((p: { name: string; containerPort: number; protocol: string }) => p);
  assert.deepEqual(
    declared(nodes)
      .map((p: { containerPort: number; protocol: string }) => `${p.containerPort}/${p.protocol}`)
      .sort(),
    [`${config?.httpPort}/TCP`, `${config?.udpPort}/UDP`],
  );
  assert.deepEqual(
    declared(gateway).map((p: { containerPort: number }) => p.containerPort),
    [gatewayConfig().httpPort],
  );
  for (const service of ofKind('Service').filter((s) => s.spec.type !== 'ExternalName')) {
    const targets = workloads().filter((w) =>
      selects(service.spec.selector, w.spec.template.metadata.labels),
    );
    assert.equal(targets.length, 1, `Service ${service.metadata.name} selects one workload`);
    for (const port of service.spec.ports) {
      const match = declared(targets[0] as K8sObject).find(
        (p: { name: string; containerPort: number; protocol: string }) =>
          (p.name === port.targetPort || p.containerPort === port.targetPort) && p.protocol === port.protocol,
      );
      assert.ok(
        match,
        `Service ${service.metadata.name}: port ${port.name} targets no ${port.protocol} container port`,
      );
      assert.equal(
        match.containerPort,
        port.port,
        `Service ${service.metadata.name}: ${port.name} keeps its number`,
      );
    }
  }
});

test('probes: liveness on /livez, readiness on /readyz, on a declared port of the node and the gateway', () => {
  for (const w of [nodes, gateway]) {
    const c = container(w);
    const ports = c.ports.map((p: { name: string }) => p.name);
    assert.equal(
      c.livenessProbe.httpGet.path,
      LIVEZ_PATH,
      `${w.metadata.name}: liveness = the process answers`,
    );
    assert.equal(
      c.readinessProbe.httpGet.path,
      READYZ_PATH,
      `${w.metadata.name}: readiness = leader + database`,
    );
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
      assert.ok([LIVEZ_PATH, READYZ_PATH, HEALTHZ_PATH].includes(probe.httpGet.path));
      assert.ok(
        ports.includes(probe.httpGet.port),
        `${w.metadata.name}: probe port ${probe.httpGet.port} is declared`,
      );
    }
  }
});

test('the PodDisruptionBudget lets one node go at a time', () => {
  const pdbs = ofKind('PodDisruptionBudget');
  assert.equal(pdbs.length, 1);
  const pdb = pdbs[0] as K8sObject;
  assert.equal(pdb.spec.maxUnavailable, 1);
  assert.ok(
    selects(pdb.spec.selector.matchLabels, nodes.spec.template.metadata.labels),
    'it selects the nodes',
  );
  for (const w of workloads().filter((w) => w !== nodes))
    assert.ok(!selects(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels));
});

test('the NetworkPolicy lets only nodes talk UDP to nodes', () => {
  const policy = one('NetworkPolicy', 'ensemble-node');
  const nodeLabels = nodes.spec.template.metadata.labels;
  assert.ok(selects(policy.spec.podSelector.matchLabels, nodeLabels));
  assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
  const udpRules = policy.spec.ingress.filter((r: { ports?: Array<{ protocol: string }> }) =>
    r.ports?.some((p) => p.protocol === 'UDP'),
  );
  assert.equal(udpRules.length, 1, 'one rule opens UDP');
  const [rule] = udpRules;
  assert.deepEqual(rule.ports, [{ protocol: 'UDP', port: nodeConfigs[0]?.udpPort }]);
  assert.equal(rule.from.length, 1);
  assert.ok(selects(rule.from[0].podSelector.matchLabels, nodeLabels), 'from the nodes');
  for (const w of workloads().filter((w) => w !== nodes))
    assert.ok(
      !selects(rule.from[0].podSelector.matchLabels, w.spec.template.metadata.labels),
      `not from ${w.metadata.name}`,
    );
  for (const r of policy.spec.ingress)
    for (const p of r.ports ?? []) assert.ok(p.protocol !== undefined, 'every port names its protocol');
});

test('Secrets: every key referenced exists, and each value is a placeholder to change', () => {
  const referenced = new Set<string>();
  for (const w of workloads())
    for (const v of container(w).env)
      if (v.valueFrom?.secretKeyRef)
        referenced.add(`${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`);
  const defined = secrets.flatMap((s) =>
    Object.keys(s.stringData ?? {}).map((k) => `${s.metadata.name}/${k}`),
  );
  assert.deepEqual(
    [...referenced].sort(),
    defined.sort(),
    'every Secret key is used, and every one used exists',
  );
  for (const key of ['ensemble-cluster/CLUSTER_SECRET', 'ensemble-cluster/API_TOKEN'])
    assert.ok(referenced.has(key));
  for (const s of secrets)
    for (const [k, v] of Object.entries(s.stringData ?? {}))
      if (/SECRET|TOKEN/.test(k) || /:[^@/]+@/.test(v))
        assert.match(
          v,
          /change-me/,
          `${s.metadata.name}/${k}: a placeholder docs/kubernetes.md says to change`,
        );
});

test('PostgreSQL, RabbitMQ, FTP and SMTP are external Services the URLs name', () => {
  const gw = gatewayConfig();
  const urls = [
    nodeConfigs[0]?.databaseUrl,
    gw.rabbitmqUrl,
    gw.ftpUrl,
    envOf(one('Deployment', 'ensemble-mailer')).SMTP_URL,
  ];
  for (const url of urls) {
    const host = new URL(url ?? '').hostname;
    const service = one('Service', host);
    assert.equal(service.spec.type, 'ExternalName', `${host}: an ExternalName Service`);
  }
  assert.equal(gw.queueType, 'quorum', 'a RabbitMQ cluster: the replicated queue type');
});

test('a kustomization field these checks do not apply is refused, naming it', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ensemble-kustomization-'));
  try {
    for (const [yaml, field] of [
      ['namespace: x\nresources: []\ncommonLabels: { a: b }\n', 'commonLabels'],
      [
        'namespace: x\nresources: []\nlabels: [{ pairs: { a: b }, includeSelectors: true }]\n',
        'labels.includeSelectors',
      ],
    ] as const) {
      writeFileSync(join(tmp, 'kustomization.yaml'), yaml);
      assert.throws(() => readKustomization(tmp), new RegExp(`${field} is not applied`));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

const run = promisify(execFile);
/** Why kubectl cannot render here, or null. (Debian's kubernetes-client, 1.20, predates the kustomization's `labels`.) */
const noKubectl = await run('kubectl', ['version', '--client']).then(
  () => null,
  () => 'kubectl is not installed (a current one: https://kubernetes.io/docs/tasks/tools/)',
);

test('kubectl kustomize renders exactly the objects these checks read', {
  skip: noKubectl ?? false,
}, async () => {
  const { stdout } = await run('kubectl', ['kustomize', dir]);
  const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;
  const byKey = <T extends { kind: string; metadata: { name: string } }>(list: T[]) =>
    list.sort((a, b) => key(a).localeCompare(key(b)));
  const rendered = byKey(parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject));
  const read = byKey(objects.map(({ file: _, ...o }) => o as K8sObject));
  assert.deepEqual(rendered.map(key), read.map(key), 'the same objects');
  for (const [i, object] of rendered.entries()) assert.deepEqual(object, read[i], key(object));
});
