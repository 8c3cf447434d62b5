/**
 * Where a node, a sentinel or a group is reached: inside the fleet's Docker network by its fixed
 * address (or network alias) and the engine's port, and from the Docker host, when the container
 * publishes its port, by the host address and host port.
 */
export class Endpoint {
  /** `hostname:port`, as clients inside the Docker network use it. */
  public readonly socketAddress: string;

  /**
   * @param hostname the container's fixed address (or a network alias) in the fleet's network
   * @param port the port in the container
   * @param hostAddress the Docker host address the port is published on, if published
   * @param hostPort the published host port (a Terraform reference when Docker picks it), if published
   */
  constructor(
    /** The container's fixed address (or a network alias) in the fleet's network. */
    public readonly hostname: string,
    /** The port in the container. */
    public readonly port: number,
    /** The Docker host address the port is published on; undefined when it is not published. */
    public readonly hostAddress?: string,
    /** The published host port (a Terraform reference when Docker picks it); undefined when not published. */
    public readonly hostPort?: number,
  ) {
    this.socketAddress = `${hostname}:${port}`;
  }
}
