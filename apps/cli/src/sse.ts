/** One server-sent event, as the stream's fields gave it. */
export interface ServerSentEvent {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  /** The `id` field of this event, if it had one. */
  id?: string;
}

/**
 * The events of a `text/event-stream` body, as the HTML standard parses them: lines end with CRLF,
 * LF or CR; `:` starts a comment; `data` lines are joined with newlines; an event is dispatched at a
 * blank line (one cut off by the end of the stream is not), and one without data is not dispatched.
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  const lines = function* (final: boolean) {
    for (;;) {
      const match = /\r\n|\n|\r/.exec(buffer);
      // a CR at the very end may be the first half of a CRLF still to come
      if (!match || (!final && match[0] === "\r" && match.index === buffer.length - 1)) return;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield line;
    }
  };
  const take = function* (final: boolean): Generator<ServerSentEvent> {
    for (const line of lines(final)) {
      if (line === "") {
        if (data.length > 0)
          yield { event: event || "message", data: data.join("\n"), ...(id ? { id } : {}) };
        data = [];
        event = "";
        id = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id" && !value.includes("\0")) id = value;
    }
  };
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* take(false);
  }
  buffer += decoder.decode();
  yield* take(true);
}
