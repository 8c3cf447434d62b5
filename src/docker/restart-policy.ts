/**
 * When Docker restarts a fleet's container.
 */
export enum RestartPolicy {
  /** Never. */
  NO = 'no',
  /** When the container exits with a non-zero status. */
  ON_FAILURE = 'on-failure',
  /** Always, including when the Docker daemon starts. */
  ALWAYS = 'always',
  /** Always, unless it was stopped by hand (then not even when the Docker daemon starts). */
  UNLESS_STOPPED = 'unless-stopped',
}
