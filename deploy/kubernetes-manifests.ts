/**
 * deploy/kubernetes read the way `kubectl apply -k` reads it, without a cluster: the
 * kustomization's resources (each a YAML stream of objects) with its namespace, labels and images
 * applied, each object validated against the Kubernetes OpenAPI schemas that the
 * kubernetes-models package ships, and a container's environment as the kubelet gives it to one
 * pod (fieldRef metadata, Secret keys, `$(VAR)` expansion). Used by the deployment checks
 * (kubernetes.test.ts), which also compare the objects with what `kubectl kustomize` renders
 * where kubectl is installed. A kustomization field this does not apply is an error, not skipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

/** What the manifests may hold, by apiVersion/kind, with the model that validates it. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

export interface Kustomization {
  readonly namespace: string;
  readonly resources: readonly string[];
  /** Labels added to every object's metadata (not to selectors or pod templates). */
  readonly labels?: ReadonlyArray<{ pairs: Record<string, string> }>;
  readonly images: ReadonlyArray<{ name: string; newName?: string; newTag?: string }>;
}

/** The kustomization fields applied here; any other would make kubectl's objects differ. */
const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images']);

/** A Kubernetes object as these checks use it: loosely typed, with the file it came from. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
  readonly spec?: any;
  readonly stringData?: Record<string, string>;
  readonly file: string;
}

export class ManifestError extends Error {}

export function readKustomization(dir: string): Kustomization {
  const [doc, ...more] = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  if (!doc || more.length > 0 || doc.errors.length > 0)
    throw new ManifestError(`kustomization.yaml: ${doc?.errors[0]?.message ?? 'must be one YAML document'}`);
  const kustomization = doc.toJS() as Kustomization;
  for (const field of Object.keys(kustomization))
    if (!KUSTOMIZATION_FIELDS.has(field))
      throw new ManifestError(`kustomization.yaml: ${field} is not applied by kubernetes-manifests.ts`);
  for (const entry of kustomization.labels ?? [])
    for (const option of Object.keys(entry))
      if (option !== 'pairs')
        throw new ManifestError(
          `kustomization.yaml: labels.${option} is not applied by kubernetes-manifests.ts`,
        );
  return kustomization;
}

/** Every object of the kustomization's resources, validated, in its namespace. */
export function loadManifests(dir: string, kustomization: Kustomization): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of kustomization.resources) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new ManifestError(`${file}: ${doc.errors[0]?.message}`);
      const data = doc.toJS() as Omit<K8sObject, 'file'> | null;
      if (data === null) continue;
      const model = MODELS[`${data.apiVersion}/${data.kind}`];
      if (!model) throw new ManifestError(`${file}: no schema known for ${data.apiVersion} ${data.kind}`);
      try {
        new model(data as never).validate();
      } catch (error) {
        throw new ManifestError(`${file}: ${data.kind} ${data.metadata?.name}: ${(error as Error).message}`);
      }
      objects.push({ ...withImages(data, kustomization), metadata: metadataOf(data, kustomization), file });
    }
  }
  return objects;
}

/** The object's metadata with the kustomization's namespace (a Namespace has none) and labels. */
function metadataOf(data: Omit<K8sObject, 'file'>, kustomization: Kustomization): K8sObject['metadata'] {
  const labels = Object.assign({}, data.metadata.labels, ...(kustomization.labels ?? []).map((l) => l.pairs));
  return {
    ...data.metadata,
    ...(data.kind === 'Namespace' ? {} : { namespace: kustomization.namespace }),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
}

/** A workload with its containers' images renamed as the kustomization's `images` say. */
function withImages<T extends Omit<K8sObject, 'file'>>(data: T, kustomization: Kustomization): T {
  const pod = data.spec?.template?.spec;
  if (!pod) return data;
  const image = (container: { image: string }) => {
    // A tag follows the last ':' after the last '/' (a registry's host:port comes before it).
    const colon = container.image.indexOf(':', container.image.lastIndexOf('/') + 1);
    const name = colon < 0 ? container.image : container.image.slice(0, colon);
    const tag = colon < 0 ? undefined : container.image.slice(colon + 1);
    const rule = kustomization.images.find((i) => i.name === name);
    if (!rule) return container;
    const newTag = rule.newTag ?? tag;
    return { ...container, image: `${rule.newName ?? name}${newTag ? `:${newTag}` : ''}` };
  };
  const spec = {
    ...pod,
    containers: pod.containers.map(image),
    ...(pod.initContainers ? { initContainers: pod.initContainers.map(image) } : {}),
  };
  return { ...data, spec: { ...data.spec, template: { ...data.spec.template, spec } } };
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly fieldRef?: { fieldPath: string };
    readonly secretKeyRef?: { name: string; key: string };
  };
}

/**
 * A container's environment in one pod, as the kubelet builds it: `metadata.name` and
 * `metadata.namespace` from the pod, Secret keys from the manifests' Secrets, and `$(VAR)`
 * expanded from the variables defined before it.
 */
export function podEnvironment(
  env: readonly EnvVar[],
  pod: { name: string; namespace: string },
  secrets: readonly K8sObject[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of env) {
    if (v.value !== undefined) {
      out[v.name] = v.value.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (whole, name: string) => out[name] ?? whole,
      );
      continue;
    }
    const field = v.valueFrom?.fieldRef?.fieldPath;
    const secretRef = v.valueFrom?.secretKeyRef;
    if (field === 'metadata.name') out[v.name] = pod.name;
    else if (field === 'metadata.namespace') out[v.name] = pod.namespace;
    else if (secretRef) {
      const secret = secrets.find((s) => s.kind === 'Secret' && s.metadata.name === secretRef.name);
      const value = secret?.stringData?.[secretRef.key];
      if (value === undefined)
        throw new ManifestError(`${v.name}: Secret ${secretRef.name} has no key ${secretRef.key}`);
      out[v.name] = value;
    } else throw new ManifestError(`${v.name}: neither a value, a pod field nor a Secret key`);
  }
  return out;
}

/** Whether a label selector (matchLabels, or a Service's selector map) selects these labels. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
