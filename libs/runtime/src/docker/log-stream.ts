/**
 * Docker's log stream of a container without a TTY multiplexes stdout and stderr in frames: an
 * 8-byte header (stream type, 3 zero bytes, payload size as uint32 big-endian) and the payload.
 * Yields each frame's payload as it completes, whatever the chunking of `source`; a frame cut off at
 * the end of the stream is dropped (Docker never sends one).
 */
export async function* demuxFrames(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
    let offset = 0;
    while (pending.length - offset >= 8) {
      const size = pending.readUInt32BE(offset + 4);
      if (pending.length - offset - 8 < size) break;
      if (size > 0) yield Buffer.from(pending.subarray(offset + 8, offset + 8 + size));
      offset += 8 + size;
    }
    pending = pending.subarray(offset);
  }
}

/**
 * The chunks of a readable log stream, ending quietly when `signal` aborts it (the reader went
 * away) and destroying the stream when the consumer stops early.
 */
export async function* chunksOf(
  stream: NodeJS.ReadableStream & { destroy?: () => void },
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  } finally {
    stream.destroy?.();
  }
}

/** Docker multiplexes stdout/stderr frames (8-byte headers) for non-TTY containers. */
export function demuxBuffer(buffer: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    chunks.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return chunks.length > 0 ? Buffer.concat(chunks) : buffer;
}
