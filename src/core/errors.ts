import { IConstruct } from 'constructs';

/**
 * Thrown for invalid props, at synth time, before any resource is created.
 *
 * Not exported through jsii (a class extending `Error` cannot be): users match on
 * `error.name === 'ValidationError'`, as with aws-cdk-lib's own validation errors.
 *
 * The message starts with the construct's path when the error came out of a construct (a user with
 * ten fleets must know which one), then names the prop, what is allowed and the value received.
 */
export class ValidationError extends Error {
  /**
   * @param propPath the path of the offending prop, such as `replicasPerShard` or `parameters.timeout`
   * @param value the value received
   * @param allowed what would have been accepted
   * @param secret whether the value is a secret: the message then gives only its length
   * @param constructPath the path of the construct whose prop it is, once known
   */
  constructor(
    public readonly propPath: string,
    public readonly value: unknown,
    public readonly allowed: string,
    public readonly secret = false,
    public readonly constructPath?: string,
  ) {
    const prefix = constructPath === undefined ? '' : `${constructPath}: `;
    super(`${prefix}\`${propPath}\` ${allowed}, got: ${secret ? describeSecret(value) : describeValue(value)}`);
    this.name = 'ValidationError';
  }
}

/**
 * The error to rethrow from a construct: a `ValidationError` raised while the construct was built
 * (core's checks know the prop, not the construct) gains the construct's path; any other error,
 * or one that already names its construct, is returned as it is.
 */
export function atConstruct(scope: IConstruct, error: unknown): unknown {
  if (!(error instanceof ValidationError) || error.constructPath !== undefined) return error;
  const located = new ValidationError(error.propPath, error.value, error.allowed, error.secret, scope.node.path);
  located.stack = error.stack?.replace(error.message, located.message);
  return located;
}

/**
 * Runs `build` for `scope`, so that a `ValidationError` it throws names the construct. For methods
 * and late calls; constructors use `atConstruct` in their own try/catch, where readonly fields can
 * still be assigned.
 */
export function withConstructPath<T>(scope: IConstruct, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw atConstruct(scope, error);
  }
}

/** Renders a received value for a message: strings quoted, objects as JSON, never a secret in full. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'object' && value.constructor && value.constructor !== Object && value.constructor !== Array) {
    return `an instance of ${value.constructor.name}`;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** A secret is never echoed: only its kind and length. */
function describeSecret(value: unknown): string {
  return typeof value === 'string' ? `a ${value.length}-character string` : describeValue(value);
}
