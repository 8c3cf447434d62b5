/**
 * What Terraform may do with a fleet's data volumes (the named volume of every Redis or Valkey
 * container, which holds the dataset).
 */
export enum RemovalPolicy {
  /**
   * Terraform refuses any plan that would destroy a data volume (`lifecycle.prevent_destroy`):
   * `terraform destroy`, a renamed fleet, a construct moved in the tree. Remove the fleet from the
   * state (`terraform state rm`) or switch to `DESTROY` first when the data may go.
   */
  RETAIN = 'retain',
  /** Terraform destroys the data volumes with the fleet, as any other resource. */
  DESTROY = 'destroy',
}
