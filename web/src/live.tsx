/**
 * Live data: one StreamClient per topic for the whole signed-in session (they outlive page
 * changes), the engine status (GET /status, then the metrics stream), the nodes snapshot,
 * recent alerts, and an event bus the pages subscribe to for opportunities and trades.
 * `resync[topic]` grows on a gap: pages depending on that topic refetch over REST.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './lib/api';
import { StreamClient, type StreamMessage, type StreamState, type WebSocketFactory } from './lib/stream';
import { learnTokens } from './lib/tokens';
import { useSession } from './session';
import type { AlertItem, NodesSnapshot, Status } from './types';

export const TOPICS = ['metrics', 'opportunities', 'trades', 'alerts', 'nodes'] as const;
export type Topic = (typeof TOPICS)[number];
/** Streams this page may do without (an engine that has no such topic closes it as unknown). */
const OPTIONAL: Topic[] = ['nodes'];
const MAX_ALERTS = 100;

type Listener = (message: StreamMessage) => void;

export interface Live {
  status: Status | null;
  setStatus: (update: (s: Status | null) => Status | null) => void;
  nodes: NodesSnapshot | null;
  nodesAvailable: boolean;
  alerts: AlertItem[];
  states: Record<Topic, StreamState>;
  connection: 'live' | 'reconnecting';
  resync: Record<Topic, number>;
  subscribe: (topic: Topic, listener: Listener) => () => void;
  refreshStatus: () => void;
  /** grows when token metadata was learned (amounts re-render) */
  tokens: number;
}

const LiveContext = createContext<Live | null>(null);

export function useLive(): Live {
  const live = useContext(LiveContext);
  if (!live) throw new Error('useLive outside LiveProvider');
  return live;
}

/** Subscribe to one topic's messages while mounted (the handler may change between renders). */
export function useStream(topic: Topic, handler: Listener): void {
  const { subscribe } = useLive();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => subscribe(topic, (m) => ref.current(m)), [subscribe, topic]);
}

export function connectionOf(states: Record<Topic, StreamState>): 'live' | 'reconnecting' {
  return TOPICS.every((t) => states[t] === 'live' || (OPTIONAL.includes(t) && states[t] === 'unavailable')) ? 'live' : 'reconnecting';
}

const initial = <T,>(value: T) => Object.fromEntries(TOPICS.map((t) => [t, value])) as Record<Topic, T>;

export function LiveProvider({ children, createSocket, streamBase }: { children: ReactNode; createSocket?: WebSocketFactory; streamBase?: string }) {
  const { api, token, logout } = useSession();
  const [status, setStatusState] = useState<Status | null>(null);
  const [nodes, setNodes] = useState<NodesSnapshot | null>(null);
  const [nodesAvailable, setNodesAvailable] = useState(true);
  const [alerts, setAlerts] = useState<AlertItem[]>([]);
  const [states, setStates] = useState<Record<Topic, StreamState>>(() => initial<StreamState>('connecting'));
  const [resync, setResync] = useState<Record<Topic, number>>(() => initial(0));
  const listeners = useRef(new Map<Topic, Set<Listener>>());

  const subscribe = useCallback((topic: Topic, listener: Listener) => {
    let set = listeners.current.get(topic);
    if (!set) listeners.current.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }, []);

  const setStatus = useCallback((update: (s: Status | null) => Status | null) => setStatusState(update), []);

  // Which engine process answers (replica id = host:pid). When it changes, the engine restarted
  // (or another replica took over): its stream sequence numbers began again, so every stream
  // starts over without `since` and every page refetches.
  const clients = useRef<StreamClient[]>([]);
  const engineKey = useRef<string | null>(null);
  const noteEngine = useCallback((s: Status | null) => {
    const key = s?.replica?.id ?? null;
    if (!key) return;
    if (engineKey.current !== null && engineKey.current !== key) {
      clients.current.forEach((c) => c.restartFresh());
      setResync((prev) => Object.fromEntries(TOPICS.map((t) => [t, prev[t] + 1])) as Record<Topic, number>);
    }
    engineKey.current = key;
  }, []);

  const refreshStatus = useCallback(() => {
    api.get<Status>('/status').then((s) => {
      noteEngine(s);
      setStatusState(s);
    }, () => undefined);
  }, [api, noteEngine]);

  const refreshNodes = useCallback(() => {
    api.get<NodesSnapshot>('/nodes').then(
      (snapshot) => {
        setNodes(snapshot);
        setNodesAvailable(true);
      },
      (err) => {
        if (err instanceof ApiError && err.status === 404) setNodesAvailable(false);
      },
    );
  }, [api]);

  const [tokens, setTokens] = useState(0);
  useEffect(() => {
    refreshStatus();
    refreshNodes();
    // token symbols and decimals for every page's amounts
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    api.get<Parameters<typeof learnTokens>[0]>('/history/pnl', { since }).then(
      (body) => {
        learnTokens(body);
        setTokens((n) => n + 1);
      },
      () => undefined,
    );
  }, [api, refreshStatus, refreshNodes]);

  useEffect(() => {
    let recheck: ReturnType<typeof setTimeout> | null = null;
    // alerts come in bursts (the replay on connect, a flapping breaker): one render per burst
    let alertBatch: AlertItem[] = [];
    let alertTimer: ReturnType<typeof setTimeout> | null = null;
    const addAlert = (item: AlertItem) => {
      alertBatch.push(item);
      if (alertTimer) return;
      alertTimer = setTimeout(() => {
        alertTimer = null;
        const batch = alertBatch;
        alertBatch = [];
        setAlerts((prev) => {
          const seen = new Set(prev.map((a) => a.seq));
          const fresh = batch.filter((a) => !seen.has(a.seq) && seen.add(a.seq)).reverse();
          return fresh.length ? [...fresh, ...prev].slice(0, MAX_ALERTS) : prev;
        });
      }, 100);
    };
    const streams = TOPICS.map((topic) => {
      let previous: StreamState = 'closed';
      const client = new StreamClient({
        topic,
        token,
        base: streamBase,
        createSocket,
        // alerts: everything the engine still buffers, so the overview shows the recent ones
        since: topic === 'alerts' ? 0 : null,
        onState: (state) => {
          // back after a drop: ask who answers now (a restarted engine's streams would resume nowhere)
          if (state === 'live' && previous === 'reconnecting' && recheck === null) {
            recheck = setTimeout(() => {
              recheck = null;
              refreshStatus();
            }, 250);
          }
          previous = state;
          setStates((prev) => (prev[topic] === state ? prev : { ...prev, [topic]: state }));
          if (topic === 'nodes' && state === 'unavailable') setNodesAvailable(false);
        },
        onAuthFailure: () => logout('invalid token: the engine refused the stream'),
        onGap: () => {
          setResync((prev) => ({ ...prev, [topic]: prev[topic] + 1 }));
          if (topic === 'metrics') refreshStatus();
          if (topic === 'nodes') refreshNodes();
        },
        onMessage: (message) => {
          if (topic === 'metrics') {
            noteEngine(message.data as Status);
            setStatusState(message.data as Status);
          }
          else if (topic === 'nodes') setNodes(message.data as NodesSnapshot);
          else if (topic === 'alerts') {
            addAlert({ seq: message.seq, at: message.at, data: message.data as AlertItem['data'] });
          }
          listeners.current.get(topic)?.forEach((fn) => fn(message));
        },
      });
      client.start();
      return client;
    });
    clients.current = streams;
    return () => {
      if (recheck) clearTimeout(recheck);
      if (alertTimer) clearTimeout(alertTimer);
      streams.forEach((c) => c.stop());
      clients.current = [];
    };
  }, [token, logout, createSocket, streamBase, refreshStatus, refreshNodes, noteEngine]);

  const value = useMemo<Live>(
    () => ({ status, setStatus, nodes, nodesAvailable, alerts, states, connection: connectionOf(states), resync, subscribe, refreshStatus, tokens }),
    [status, setStatus, nodes, nodesAvailable, alerts, states, resync, subscribe, refreshStatus, tokens],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
