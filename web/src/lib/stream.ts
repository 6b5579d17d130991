/**
 * One WebSocket stream of the engine (/api/v1/stream/{topic}), kept open.
 *
 * - Auth: a browser cannot set headers, so the first message is `{"token": ...}` (never the URL).
 * - Every message is `{topic, seq, at, data}`; the last seq seen is where a reconnect resumes
 *   (`?since=<seq>`), so nothing still in the engine's replay buffer is missed.
 * - `{"gap": true}`: some messages are gone: the owner refetches over REST (`onGap`).
 * - Close 1008 (policy violation): the token was refused: no retry, back to the login
 *   (`onAuthFailure`); except "unknown stream", which this engine does not have (`unavailable`).
 * - Any other close (1013 "too slow", 1006 network, a restart): reconnect with exponential
 *   backoff (+ jitter), resuming with `since`. The backoff resets once a message arrives.
 */

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'unavailable' | 'closed';

export interface StreamMessage<T = unknown> {
  topic: string;
  seq: number;
  at: number;
  data: T;
}

export interface WebSocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface StreamOptions {
  topic: string;
  token: string;
  /** Where to start: null = only new messages; 0 = everything still buffered. */
  since?: number | null;
  /** Base URL of the streams, e.g. ws://host/api/v1/stream (default: this page's origin). */
  base?: string;
  createSocket?: WebSocketFactory;
  onMessage?: (message: StreamMessage) => void;
  onGap?: () => void;
  onState?: (state: StreamState, detail?: string) => void;
  onAuthFailure?: (reason: string) => void;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** 0..1 → jitter factor; default Math.random. */
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_LATER = 1013;

export function defaultStreamBase(loc: { protocol: string; host: string } = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/stream`;
}

/** The delay before reconnect attempt `attempt` (0-based): initial·2^attempt capped at max, ±20% jitter. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export class StreamClient {
  private socket: WebSocketLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private stopped = false;
  private lastSeq: number | null;
  private stateValue: StreamState = 'closed';
  private readonly opts: Required<Pick<StreamOptions, 'initialDelayMs' | 'maxDelayMs'>> & StreamOptions;

  constructor(options: StreamOptions) {
    this.opts = { initialDelayMs: 500, maxDelayMs: 30_000, ...options };
    this.lastSeq = options.since ?? null;
  }

  get state(): StreamState {
    return this.stateValue;
  }

  /** The last sequence number received (where a reconnect resumes), or null. */
  get seq(): number | null {
    return this.lastSeq;
  }

  get attempts(): number {
    return this.attempt;
  }

  url(): string {
    const base = this.opts.base ?? defaultStreamBase();
    const since = this.lastSeq !== null ? `?since=${this.lastSeq}` : '';
    return `${base}/${encodeURIComponent(this.opts.topic)}${since}`;
  }

  start(): void {
    this.stopped = false;
    this.open('connecting');
  }

  stop(): void {
    this.stopped = true;
    this.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      try {
        socket.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.setState('closed');
  }

  /**
   * Start over without `since` (the engine restarted: its sequence numbers began again, and a
   * resume from an old, higher seq would skip everything). Reconnects now unless stopped or
   * refused.
   */
  restartFresh(): void {
    this.lastSeq = null;
    if (this.stopped || this.stateValue === 'unauthorized' || this.stateValue === 'unavailable') return;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      try {
        socket.close(1000, 'restart');
      } catch {
        /* already closed */
      }
    }
    this.attempt = 0;
    this.open('reconnecting');
  }

  private setState(state: StreamState, detail?: string): void {
    this.stateValue = state;
    this.opts.onState?.(state, detail);
  }

  private clear(): void {
    if (this.timer !== null) {
      (this.opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)))(this.timer);
      this.timer = null;
    }
  }

  private open(state: StreamState): void {
    this.clear();
    this.setState(state);
    const create = this.opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as WebSocketLike);
    let socket: WebSocketLike;
    try {
      socket = create(this.url());
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      socket.send(JSON.stringify({ token: this.opts.token }));
      this.setState('live');
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (this.socket !== socket) return;
      let message: unknown;
      try {
        message = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        return;
      }
      if (!message || typeof message !== 'object') return;
      this.attempt = 0; // the connection works: the next drop starts the backoff afresh
      if ((message as { gap?: unknown }).gap === true) {
        this.opts.onGap?.();
        return;
      }
      const m = message as StreamMessage;
      if (typeof m.seq === 'number') this.lastSeq = m.seq;
      this.opts.onMessage?.(m);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    socket.onclose = (ev: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      const reason = ev.reason ?? '';
      if (ev.code === CLOSE_POLICY) {
        if (/unknown stream/i.test(reason)) {
          this.setState('unavailable', reason);
          return;
        }
        this.setState('unauthorized', reason);
        this.opts.onAuthFailure?.(reason || 'token refused');
        return;
      }
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.opts.initialDelayMs, this.opts.maxDelayMs, this.opts.random);
    this.attempt += 1;
    this.setState('reconnecting');
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = set(() => {
      this.timer = null;
      if (!this.stopped) this.open('reconnecting');
    }, delay);
  }
}
