/**
 * What Terraform may do with a fleet's data volumes (the named volume of every Redis or Valkey
 * container, which holds the dataset).
 */
export enum RemovalPolicy {
  /**
   * Terraform refuses any plan that would destroy a declared data volume
   * (`lifecycle.prevent_destroy`): `terraform destroy`, a replacement. The volume of every slot
   * the fleet can have stays declared, so a lower replica count keeps the removed slots' volumes.
   * A block that leaves the configuration takes its prevent_destroy with it: removing the fleet from
   * the code, or renaming its id, destroys its volumes. Remove them from the state first
   * (`terraform state rm`) to keep them, or switch to `DESTROY` when the data may go.
   */
  RETAIN = 'retain',
  /** Terraform destroys the data volumes with the fleet, as any other resource. */
  DESTROY = 'destroy',
}
