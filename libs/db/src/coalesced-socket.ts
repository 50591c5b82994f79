import net from "node:net";

/** What postgres.js passes its `socket` option: the hosts and ports of the URL, or a Unix socket. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js's `socket` option: a connection whose writes in one turn of the event loop leave in
 * one system call. The driver writes a query as soon as its buffer holds 1 KiB, so a group-committed
 * batch (see GroupCommit) went out in a write per query or two; on loopback each write costs the
 * sender the receiver's side of TCP too. The first write of a turn corks the socket and the turn's
 * end (setImmediate, where the driver flushes its own small writes) uncorks it. Nothing waits
 * longer than it did: a small query was already held until then.
 *
 * The driver treats the socket as connected and starts its connect timeout once it has it, so it is
 * handed over while connecting, as the driver's own is; hosts are tried in turn, one per connection.
 */
export function coalescedSocketFactory(): (options: SocketOptions) => net.Socket {
  let next = 0;
  return (options) => {
    const index = next++ % Math.max(1, options.host.length);
    const socket = options.path
      ? net.connect(options.path)
      : net.connect(options.port[index] ?? options.port[0] ?? 5432, options.host[index] ?? "localhost");
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    const uncork = () => socket.uncork();
    socket.write = ((...args: unknown[]) => {
      if (socket.writableCorked === 0) {
        socket.cork();
        setImmediate(uncork);
      }
      return write(...args);
    }) as typeof socket.write;
    return socket;
  };
}
