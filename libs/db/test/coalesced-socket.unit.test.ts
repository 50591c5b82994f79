import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coalescedSocketFactory } from "../src/coalesced-socket.ts";

// A turn's writes leave together at its end: the first corks the connection, setImmediate uncorks it.
describe("coalescedSocketFactory", () => {
  let server: net.Server;
  const received: Buffer[] = [];
  let port = 0;

  beforeAll(async () => {
    server = net.createServer((peer) => peer.on("data", (chunk) => received.push(chunk)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("holds a turn's writes until the turn ends, then sends them all in order", async () => {
    const socket = coalescedSocketFactory()({ host: ["127.0.0.1"], port: [port] });
    await new Promise((resolve) => socket.once("connect", resolve));

    // larger than the driver's 1 KiB flush threshold, as a batch of queries is
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1500, 97 + i));
    // held, not "full": the driver mishandles a full socket (see coalesced-socket.ts)
    expect(parts.map((part) => socket.write(part))).toEqual(parts.map(() => true));
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBe(20 * 1500);

    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.writableCorked).toBe(0);
    // the next turn corks again
    socket.write(Buffer.from("end"));
    expect(socket.writableCorked).toBe(1);

    const total = 20 * 1500 + 3;
    while (Buffer.concat(received).length < total) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(received)).toEqual(Buffer.concat([...parts, Buffer.from("end")]));
    socket.destroy();
  });

  it("connects to a Unix socket when given a path, and reports a refused connection as an error", async () => {
    const socket = coalescedSocketFactory()({
      host: ["127.0.0.1"],
      port: [port],
      path: "/nonexistent/pg.sock",
    });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once("error", resolve));
    expect(error.code).toBe("ENOENT");
  });
});
