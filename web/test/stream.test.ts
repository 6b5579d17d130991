import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamClient, backoffDelay, type StreamOptions, type StreamState } from '../src/lib/stream';
import { FakeSocket } from './fakes';

const BASE = 'ws://engine.test/api/v1/stream';

function client(extra: Partial<StreamOptions> = {}) {
  const events = { messages: [] as unknown[], gaps: 0, states: [] as StreamState[], authFailures: [] as string[] };
  const c = new StreamClient({
    topic: 'trades',
    token: 'secret-token',
    base: BASE,
    createSocket: FakeSocket.create,
    random: () => 0.5, // no jitter: delays are exact
    onMessage: (m) => events.messages.push(m),
    onGap: () => (events.gaps += 1),
    onState: (s) => events.states.push(s),
    onAuthFailure: (r) => events.authFailures.push(r),
    ...extra,
  });
  return { c, events };
}

describe('StreamClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('authenticates with a first message and never puts the token in the URL', () => {
    const { c, events } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    expect(ws.url).toBe(`${BASE}/trades`);
    expect(ws.url).not.toContain('secret-token');
    expect(ws.sent).toEqual([]);
    ws.open();
    expect(ws.sent).toEqual([JSON.stringify({ token: 'secret-token' })]);
    expect(c.state).toBe('live');
    expect(events.states).toEqual(['connecting', 'live']);
  });

  it('reconnects with ?since=<last seq seen> after a drop', () => {
    const { c, events } = client();
    c.start();
    const first = FakeSocket.last('trades');
    first.open();
    first.receive({ topic: 'trades', seq: 41, at: 1, data: { id: 'a' } });
    first.receive({ topic: 'trades', seq: 42, at: 2, data: { id: 'b' } });
    expect(events.messages).toHaveLength(2);
    first.serverClose(1006);
    expect(c.state).toBe('reconnecting');
    expect(FakeSocket.topic('trades')).toHaveLength(1); // waits for the backoff first
    vi.advanceTimersByTime(500);
    const second = FakeSocket.last('trades');
    expect(second).not.toBe(first);
    expect(second.url).toBe(`${BASE}/trades?since=42`);
    second.open();
    expect(second.sent[0]).toBe(JSON.stringify({ token: 'secret-token' }));
  });

  it('backs off exponentially up to the cap while connections fail, and resets once a message arrives', () => {
    const { c } = client({ initialDelayMs: 100, maxDelayMs: 1000 });
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      FakeSocket.last('trades').serverClose(1006);
      const before = FakeSocket.instances.length;
      let waited = 0;
      while (FakeSocket.instances.length === before) {
        vi.advanceTimersByTime(10);
        waited += 10;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.receive({ topic: 'trades', seq: 1, at: 1, data: {} });
    ws.serverClose(1006);
    vi.advanceTimersByTime(99);
    expect(FakeSocket.last('trades')).toBe(ws);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.last('trades')).not.toBe(ws);
  });

  it('on 1008 (token refused) reports an auth failure and never retries', () => {
    const { c, events } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.serverClose(1008, 'missing, unknown or revoked token');
    expect(c.state).toBe('unauthorized');
    expect(events.authFailures).toEqual(['missing, unknown or revoked token']);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.topic('trades')).toHaveLength(1);
  });

  it('on 1013 (client too slow) reconnects and resumes from the last seq', () => {
    const { c, events } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.receive({ topic: 'trades', seq: 7, at: 1, data: {} });
    ws.serverClose(1013, 'client too slow: reconnect with ?since=7');
    expect(events.authFailures).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.last('trades').url).toBe(`${BASE}/trades?since=7`);
  });

  it('an unknown stream (1008 "unknown stream") is unavailable, not an auth failure', () => {
    const { c, events } = client({ topic: 'nodes' });
    c.start();
    FakeSocket.last('nodes').open();
    FakeSocket.last('nodes').serverClose(1008, "unknown stream 'nodes' (one of opportunities, trades)");
    expect(c.state).toBe('unavailable');
    expect(events.authFailures).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.topic('nodes')).toHaveLength(1);
  });

  it('a gap marker calls onGap (the owner refetches) and is not a message', () => {
    const { c, events } = client({ since: 5 });
    c.start();
    const ws = FakeSocket.last('trades');
    expect(ws.url).toBe(`${BASE}/trades?since=5`);
    ws.open();
    ws.receive({ gap: true });
    ws.receive({ topic: 'trades', seq: 900, at: 1, data: { id: 'x' } });
    expect(events.gaps).toBe(1);
    expect(events.messages).toEqual([{ topic: 'trades', seq: 900, at: 1, data: { id: 'x' } }]);
    expect(c.seq).toBe(900);
  });

  it('stop() closes the socket and cancels a pending reconnect', () => {
    const { c } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.serverClose(1006);
    c.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.topic('trades')).toHaveLength(1);
    expect(c.state).toBe('closed');
    c.start();
    const again = FakeSocket.last('trades');
    c.stop();
    expect(again.closedByClient).toEqual({ code: 1000, reason: 'bye' });
  });

  it('restartFresh() reconnects at once without since (an engine restart resets its seq numbers)', () => {
    const { c } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.receive({ topic: 'trades', seq: 500, at: 1, data: {} });
    c.restartFresh();
    expect(ws.closedByClient).toEqual({ code: 1000, reason: 'restart' });
    const fresh = FakeSocket.last('trades');
    expect(fresh).not.toBe(ws);
    expect(fresh.url).toBe(`${BASE}/trades`);
    ws.serverClose(1000); // the old socket's close is no longer ours
    expect(FakeSocket.topic('trades')).toHaveLength(2);
  });

  it('ignores frames that are not JSON objects', () => {
    const { c, events } = client();
    c.start();
    const ws = FakeSocket.last('trades');
    ws.open();
    ws.onmessage?.({ data: 'not json' } as MessageEvent);
    ws.onmessage?.({ data: '42' } as MessageEvent);
    expect(events.messages).toEqual([]);
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay, caps, and jitters by ±20%', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0.5)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, 500, 30_000, () => 0.5)).toBe(30_000);
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(400);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(600);
  });
});
