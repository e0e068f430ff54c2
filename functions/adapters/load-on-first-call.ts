// A port whose adapter is imported on its first call rather than when the function starts. A Lambda
// cold start then loads only the AWS SDK clients its first request uses: the API listing backups
// needs DynamoDB, not ECS, Scheduler, SNS, EventBridge, S3 or Secrets Manager (about 100 ms of
// module loading, test/bench), nor the MongoDB driver (a chunk of its own, infra/function-bundle.ts).

/** The names of T's methods that return a promise: the only ones a late-loaded adapter can serve. */
type AsyncMethodOf<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/** T's plain properties: what a late-loaded port must be given up front. */
type FieldsOf<T> = Omit<T, AsyncMethodOf<T>>;

/**
 * A T whose methods load the adapter (once; again after a failed load) and call it. `methods` names
 * every async method of the port (`{ put: true, ... }`: the type requires them all, so a method
 * added to the port cannot be forgotten here), and `fields` gives its plain properties, known without
 * loading (a Notifier's `channel`); a port without any takes no `fields`.
 */
export function loadOnFirstCall<T extends object>(
  load: () => Promise<T>,
  methods: Record<AsyncMethodOf<T>, true>,
  ...fields: keyof FieldsOf<T> extends never ? [] : [FieldsOf<T>]
): T {
  const adapter = once(load);
  const port: Record<PropertyKey, unknown> = { ...fields[0] };
  for (const name of Object.keys(methods) as AsyncMethodOf<T>[]) {
    port[name] = async (...args: unknown[]) => {
      const target = await adapter();
      return (target[name] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
    };
  }
  return port as T;
}

/** A value built once, on first use, by an async factory (a shared SDK client). */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
