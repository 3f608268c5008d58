// Server-sent events (HTML Living Standard §9.2, text/event-stream) over HTTP/3: a streaming Response from an
// async iterable of events, and a parser for a response body.

export interface ServerSentEvent {
  data: string;
  event?: string;
  id?: string;
  /** Reconnection time in milliseconds. */
  retry?: number;
}

const enc = new TextEncoder();

function field(name: string, value: string): string {
  // A value cannot hold a line break: each line becomes its own field line of the same name.
  return value
    .split(/\r\n|\r|\n/)
    .map((l) => `${name}: ${l}\n`)
    .join('');
}

export function formatEvent(e: ServerSentEvent): string {
  let s = '';
  if (e.event !== undefined) s += field('event', e.event);
  if (e.id !== undefined) s += field('id', e.id);
  if (e.retry !== undefined) s += `retry: ${Math.max(0, Math.floor(e.retry))}\n`;
  s += field('data', e.data);
  return `${s}\n`;
}

/**
 * A text/event-stream Response: each event is written as it comes, with backpressure from the stream; a comment
 * line every `keepAliveMs` (if set) keeps intermediaries from timing out.
 */
export function eventStream(events: AsyncIterable<ServerSentEvent>, init: ResponseInit & { keepAliveMs?: number } = {}): Response {
  const it = events[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (init.keepAliveMs !== undefined) timer = setInterval(() => controller.enqueue(enc.encode(':\n\n')), init.keepAliveMs).unref();
      },
      async pull(controller) {
        const r = await it.next();
        if (r.done === true) {
          if (timer !== undefined) clearInterval(timer);
          controller.close();
          return;
        }
        controller.enqueue(enc.encode(formatEvent(r.value)));
      },
      async cancel() {
        if (timer !== undefined) clearInterval(timer);
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const headers = new Headers(init.headers);
  headers.set('content-type', 'text/event-stream');
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache');
  return new Response(body, { status: init.status ?? 200, headers });
}

/** Parses a text/event-stream body into events (the standard's "dispatch" rules; comments ignored). */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const dec = new TextDecoder();
  let buf = '';
  let data: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? dec.decode() : dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) {
            yield { data: data.join('\n'), ...(event !== undefined ? { event } : {}), ...(id !== undefined ? { id } : {}), ...(retry !== undefined ? { retry } : {}) };
          }
          data = [];
          event = undefined;
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (name === 'data') data.push(value);
        else if (name === 'event') event = value;
        else if (name === 'id' && !value.includes('\0')) id = value;
        else if (name === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
