/**
 * undici, imported when the first request through it is made (a completion, a context-window
 * probe, a forge call, a model list through a proxy). An idle daemon makes none: its
 * readiness probe of a direct endpoint uses node:http (see listServedModels). Loading undici
 * costs 6 to 9 MiB of resident memory on Node 24 (6 in the bundled worker, as measured by
 * bench:idle-memory), its own code and the copy bundled in Node that it reaches through the
 * web globals (Headers, FormData), which is why it waits.
 */
type Undici = typeof import('undici');

let loading: Promise<Undici> | undefined;

export function loadUndici(): Promise<Undici> {
  // A load that failed (a bundle's chunk missing mid-upgrade) is tried again by the next call.
  loading ??= import('undici').then(
    // esbuild's ES-module chunk of a CommonJS package exports only `default`, the package's
    // module.exports; Node and Jest give that same object as `default` beside its names.
    (module) => (module as unknown as { default?: Undici }).default ?? module,
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}
