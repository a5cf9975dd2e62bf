/**
 * The architecture, as rules that `npm run check:layers` (part of `npm test`) enforces with
 * dependency-cruiser. Layers, bottom up; each may import only the layers below it:
 *
 *   common/        plumbing and cross-process contracts that know nothing of the domain
 *   schema/        the domain's data contracts (events, GraphQL types, the listing input, the
 *                  queue message); may use common/ for its helpers and limits
 *   api/           the GraphQL API every node serves and the ports it calls
 *   nodes/ gateway/ scraper/ mailer/
 *                  the services, beside each other: none imports another
 *   launcher/      starts processes (PostgreSQL, RabbitMQ, FTP, SMTP, node clusters, the gateway)
 *   test-support/  test harnesses, built on the launcher
 *   bench/ chaos/ deploy/ architecture/
 *                  tools on top, imported by nothing else
 *
 * Test files (`*.test.ts`) sit beside the code they test and may also use launcher/ and
 * test-support/. No import cycles anywhere. Type-only imports count: the swc parser sees them.
 */
const SERVICES = 'nodes|gateway|scraper|mailer';
const HARNESS = 'launcher|test-support';
const TOOLS = 'bench|chaos|deploy|architecture';
const BELOW_THE_HARNESS = `common|schema|api|${SERVICES}`;
const TEST = '\\.test\\.ts$';

/** A rule forbidding imports from `from` to `to` (path regexes), for non-test files unless `tests`. */
const layer = (name, comment, from, to, { tests = true, toNot } = {}) => ({
  name,
  comment,
  severity: 'error',
  from: tests ? { path: from } : { path: from, pathNot: TEST },
  to: toNot ? { path: to, pathNot: toNot } : { path: to },
});

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: modules that need each other are one idea, or one of them belongs lower.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment:
        'An import that does not resolve to a file: the layer rules cannot place it (a typo, or a .js ' +
        'specifier whose .ts source is missing).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    layer(
      'common-at-the-bottom',
      'common/ is the bottom layer: it imports nothing of the project outside common/.',
      '^common/',
      `^(schema|api|${SERVICES}|${HARNESS}|${TOOLS})/`,
      { tests: false },
    ),
    layer(
      'schema-above-common-only',
      'schema/ holds the contracts every process shares: it may use common/ and nothing above.',
      '^schema/',
      `^(api|${SERVICES}|${HARNESS}|${TOOLS})/`,
      { tests: false },
    ),
    layer(
      'api-below-the-services',
      'api/ sits below the services that serve and proxy it: it may use schema/ and common/ only.',
      '^api/',
      `^(${SERVICES}|${HARNESS}|${TOOLS})/`,
      { tests: false },
    ),
    layer(
      'services-beside-each-other',
      'nodes/, gateway/, scraper/ and mailer/ talk over the network, never through imports: ' +
        'share a contract through schema/, common/ or api/ instead.',
      `^(${SERVICES})/`,
      `^(${SERVICES})/`,
      { toNot: '^$1/' },
    ),
    layer(
      'only-tests-use-the-harness',
      'Production code never imports the launcher, the test harnesses or the tools on top of them; ' +
        'they import it.',
      `^(${BELOW_THE_HARNESS})/`,
      `^(${HARNESS}|${TOOLS})/`,
      { tests: false },
    ),
    layer(
      'tests-use-the-harness-only',
      'A test below the harness may use launcher/ and test-support/, not the tools above them.',
      `^(${BELOW_THE_HARNESS})/`,
      `^(${TOOLS})/`,
    ),
    layer(
      'launcher-below-test-support',
      'The launcher starts processes for `npm start` as well as for tests: it never imports a test harness.',
      '^launcher/',
      `^(test-support|${TOOLS})/`,
      { tests: false },
    ),
    layer(
      'tools-on-top',
      'bench/, chaos/, deploy/ and architecture/ are entry points: nothing outside each imports it.',
      '^([^/]+)/',
      `^(${TOOLS})/`,
      { toNot: '^$1/' },
    ),
    {
      name: 'no-test-imports',
      comment: 'Production code never imports a test file.',
      severity: 'error',
      from: { pathNot: TEST },
      to: { path: TEST },
    },
  ],
  options: {
    // Type-only imports count: they are dependencies of the design even though tsc drops them.
    // (swc reports `import type` like any import; tsc's own API is gone in TypeScript 7).
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|docs|\\.data)/' },
    moduleSystems: ['es6'],
    // Resolve packages through their `exports`, as Node does, so that every import resolves.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      // A types-only package (`@graphql-typed-document-node/core`) names its file under `typings`.
      mainFields: ['main', 'types', 'typings'],
    },
  },
};
