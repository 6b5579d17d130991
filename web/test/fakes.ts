import type { Api } from '../src/lib/api';
import { ApiError } from '../src/lib/api';
import type { WebSocketLike } from '../src/lib/stream';

/** A WebSocket the test drives: open(), receive(), serverClose(). */
export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;

  constructor(public url: string) {
    FakeSocket.instances.push(this);
  }

  static create = (url: string): WebSocketLike => new FakeSocket(url);

  static topic(topic: string): FakeSocket[] {
    return FakeSocket.instances.filter((s) => new URL(s.url).pathname.endsWith(`/${topic}`));
  }

  static last(topic: string): FakeSocket {
    const all = FakeSocket.topic(topic);
    if (!all.length) throw new Error(`no socket for ${topic}`);
    return all[all.length - 1];
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedByClient = { code, reason };
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
}

type Handler = (params: URLSearchParams, body?: unknown) => unknown;

/** An Api answering from a table of "GET /path" / "POST /path" handlers; records the calls. */
export function fakeApi(routes: Record<string, Handler | unknown>) {
  const calls: { method: string; path: string; params: URLSearchParams; body?: unknown }[] = [];
  function answer(method: string, path: string, params: URLSearchParams, body?: unknown): Promise<unknown> {
    calls.push({ method, path, params, body });
    const route = routes[`${method} ${path}`];
    if (route === undefined) return Promise.reject(new ApiError(404, `no route ${method} ${path}`));
    try {
      const value = typeof route === 'function' ? (route as Handler)(params, body) : route;
      return value instanceof Promise ? value : Promise.resolve(structuredClone(value));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const api: Api = {
    get: <T,>(path: string, params?: Record<string, unknown> | URLSearchParams) => {
      const q = params instanceof URLSearchParams ? params : new URLSearchParams(
        Object.entries(params ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, String(v)]),
      );
      return answer('GET', path, q) as Promise<T>;
    },
    post: <T,>(path: string, body?: unknown) => answer('POST', path, new URLSearchParams(), body) as Promise<T>,
  };
  return { api, calls };
}

export const WETH = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

export function status(overrides: Record<string, unknown> = {}) {
  return {
    engine: 'mevops-test', chain: 'ethereum', mode: 'live', running: true, trading: true, emergency_stop: null,
    uptime_s: 12, last_block: 100, blocks_processed: 90, event_lag_ms: 1.5,
    strategies: { arb: { enabled: true } }, opportunities: { found: 10, simulated: 8, sent: 5, landed: 4 },
    replica: { id: 'x', role: 'active', since: 0 }, config_version: 0, ...overrides,
  };
}
