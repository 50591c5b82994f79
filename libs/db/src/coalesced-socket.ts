import net from "node:net";

/** What postgres.js passes its `socket` option: the hosts and ports of the URL, or a Unix socket. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

/** Bytes a socket buffers before its write says "full": far more than any turn's statements. */
const HELD_AT_MOST = 8 * 1024 * 1024;

/**
 * postgres.js's `socket` option: a connection whose writes in one turn of the event loop leave in
 * one system call. The driver writes a query as soon as its buffer holds 1 KiB, so a group-committed
 * batch (see GroupCommit) went out in a write per query or two; on loopback each write costs the
 * sender the receiver's side of TCP too. The first write of a turn corks the socket and the turn's
 * end (setImmediate, where the driver flushes its own small writes) uncorks it. Nothing waits
 * longer than it did: a small query was already held until then.
 *
 * What a turn writes is held in the socket's buffer, so the buffer's mark is raised well above any
 * turn's writes (HELD_AT_MOST). With the default 16 KiB a batch filled it, the socket's write said
 * "full", and the driver's answer to that is unsafe: the "drain" that follows, arriving once no query
 * is under way, puts the connection back in the pool even when it is reserved (a pipelined
 * transaction's, a lock holder's) and still in use. Workers hung with transactions open. Unheld, a
 * write only says "full" once the kernel's buffer is, as with the driver's own socket.
 *
 * The driver treats the socket as connected and starts its connect timeout once it has it, so it is
 * handed over while connecting, as the driver's own is; hosts are tried in turn, one per connection.
 */
export function coalescedSocketFactory(): (options: SocketOptions) => net.Socket {
  let next = 0;
  return (options) => {
    const index = next++ % Math.max(1, options.host.length);
    // a stream option net.Socket passes on, which its connect options' types leave out
    const held = { writableHighWaterMark: HELD_AT_MOST };
    const socket = options.path
      ? net.connect({ path: options.path, ...held })
      : net.connect({
          port: options.port[index] ?? options.port[0] ?? 5432,
          host: options.host[index] ?? "localhost",
          ...held,
        });
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
