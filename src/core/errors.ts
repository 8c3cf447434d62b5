/**
 * Thrown for invalid props, at synth time, before any resource is created.
 *
 * Not exported through jsii (a class extending `Error` cannot be): users match on
 * `error.name === 'ValidationError'`, as with aws-cdk-lib's own validation errors.
 */
export class ValidationError extends Error {
  /**
   * @param propPath the path of the offending prop, such as `replicasPerShard` or `parameters.timeout`
   * @param value the value received
   * @param allowed what would have been accepted
   * @param secret whether the value is a secret: the message then gives only its length
   */
  constructor(
    public readonly propPath: string,
    public readonly value: unknown,
    public readonly allowed: string,
    secret = false,
  ) {
    super(`\`${propPath}\` ${allowed}, got: ${secret ? describeSecret(value) : describeValue(value)}`);
    this.name = 'ValidationError';
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
