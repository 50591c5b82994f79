// Server-sent events read from a fetch() stream: EventSource cannot send the console's header.

/** Parses text/event-stream as it arrives: each complete event goes to `onEvent`. */
export function eventStreamParser(onEvent: (event: string, data: string) => void): (text: string) => void {
  let buffer = "";
  return (text) => {
    // line ends may be \r\n or \r; a \r ending this chunk waits for a \n that may start the next one
    buffer = (buffer + text).replace(/\r\n|\r(?!$)/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(event, data.join("\n"));
      end = buffer.indexOf("\n\n");
    }
  };
}
