/**
 * A loopback TCP proxy that can simulate a network partition: `partition()` keeps every connection open but stops
 * delivering bytes (a half-open connection, as when packets are dropped); `heal()` resets the connections that were
 * cut (as TCP eventually would) and forwards new ones again.
 */

import net from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private partitioned = false;
  /** Connections that lived through a partition: their byte streams have gaps and can only be reset. */
  private readonly damaged = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    proxy = new TcpProxy(server, typeof address === 'object' && address !== null ? address.port : 0);
    return proxy;
  }

  /** `127.0.0.1:<proxy port>`. */
  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops delivering bytes in both directions, without closing anything. */
  partition(): void {
    this.partitioned = true;
    for (const socket of this.sockets) this.damaged.add(socket);
  }

  /** Resets the connections cut by the partition and forwards again. */
  heal(): void {
    this.partitioned = false;
    for (const socket of this.damaged) socket.destroy();
    this.damaged.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      if (this.partitioned) this.damaged.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.damaged.delete(socket);
        // Like a peer's FIN or RST: but not while partitioned, when nothing gets through.
        if (!this.partitioned) (socket === client ? upstream : client).destroy();
      });
    }
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (!this.partitioned && !this.damaged.has(from)) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
  }
}
