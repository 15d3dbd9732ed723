/**
 * The layers of Rebook and what may import what (docs/architecture.md explains them).
 * `npm run lint` runs these rules; test/architecture/layers.test.ts proves they pass on the tree
 * and fail on a deliberate violation. Tests, bench and scripts may import anything: they drive
 * the layers from outside.
 */
const TESTS_AND_TOOLS = ['^test/', '^bench/', '^scripts/', '\\.test\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      comment:
        'src/core is shared by the workflow sandbox, activities and the simulator: no I/O (node built-ins, db, Temporal, fastify, providers), only core and pure libraries.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: TESTS_AND_TOOLS },
      to: { pathNot: ['^src/core/', '^node_modules/(zod|libphonenumber-js)/'] },
    },
    {
      name: 'workflows-only-core-and-sdk',
      comment:
        'Workflow code must replay deterministically in the sandbox: only src/core, its own definitions, @temporalio/workflow (and the pure @temporalio/common it builds on) and activity types.',
      severity: 'error',
      from: { path: '^workflows/', pathNot: TESTS_AND_TOOLS },
      to: {
        pathNot: [
          '^workflows/',
          '^src/core/',
          '^src/activities/types\\.ts$',
          '^node_modules/@temporalio/(workflow|common)/',
        ],
      },
    },
    {
      name: 'workflows-activity-types-only',
      comment:
        'Activities do I/O: a workflow names them through their types, the worker registers the implementations.',
      severity: 'error',
      from: { path: '^workflows/', pathNot: TESTS_AND_TOOLS },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'connectors-below-the-app',
      comment:
        'A connector is a vendor adapter the app calls: it must not reach up into the CLI, the HTTP server or the activities.',
      severity: 'error',
      from: { path: '^connectors/', pathNot: [...TESTS_AND_TOOLS] },
      to: { path: '^src/(cli|server|activities)/' },
    },
    {
      name: 'connectors-use-the-connector-store',
      comment:
        "Connectors read and write our database only through src/db/connector-store.ts (Db is just the handle they pass it), never the app's tables or drizzle: the schema can change without touching every vendor folder.",
      severity: 'error',
      from: { path: '^connectors/', pathNot: TESTS_AND_TOOLS },
      to: {
        path: ['^src/db/', '^node_modules/drizzle-orm/'],
        pathNot: ['^src/db/connector-store\\.ts$', '^src/db/client\\.ts$'],
      },
    },
    {
      name: 'messaging-below-activities',
      comment:
        'Message providers are called by activities and inbound routes; they never call back up into activities.',
      severity: 'error',
      from: { path: '^src/messaging/' },
      to: { path: '^src/activities/' },
    },
    {
      name: 'reports-and-preview-not-cli',
      comment: 'Reports and previews are also served over HTTP: they must not depend on the command line.',
      severity: 'error',
      from: { path: '^src/(reports|preview)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'server-is-a-shell',
      comment:
        "The HTTP server is an outer shell: only the processes that start it (src/processes.ts, the CLI) import it, nothing below. The console is the same shell serving HTML: it authorizes with the API's own tenancy rule and keys.",
      severity: 'error',
      from: { pathNot: ['^src/server/', '^src/console/', '^src/cli/', '^src/processes\\.ts$', ...TESTS_AND_TOOLS] },
      to: { path: '^src/server/' },
    },
    {
      name: 'cli-is-the-top',
      comment: 'The CLI is the outermost layer: nothing but the CLI itself imports it.',
      severity: 'error',
      from: { pathNot: ['^src/cli/', ...TESTS_AND_TOOLS] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-test-code-in-the-product',
      comment: 'Test helpers are not shipped code: the product must run without them.',
      severity: 'error',
      from: { pathNot: TESTS_AND_TOOLS },
      to: { path: '^test/' },
    },
    {
      name: 'resolvable',
      comment:
        'An import that does not resolve is a typo or a missing dependency; without it the rules above see nothing.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type import of the server from below is still an upward dependency.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
