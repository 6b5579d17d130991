/** Shapes of the engine API's answers (see mevops/engine/api). Amounts are integer strings. */
import type { Role } from './lib/api';

export interface WhoAmI {
  who: string;
  name?: string;
  role: Role;
  token_id: number;
}

export interface Status {
  engine: string;
  chain: string;
  mode: string;
  running: boolean;
  trading: boolean;
  emergency_stop: string | null;
  uptime_s?: number;
  last_block: number;
  blocks_processed: number;
  event_lag_ms?: number | null;
  queues?: Record<string, { depth: number; capacity: number | null }>;
  dropped?: Record<string, number>;
  strategies?: Record<string, { enabled: boolean }>;
  opportunities?: { found: number; simulated: number; sent: number; landed: number };
  replica?: { id: string; role: string; since: number };
  config_version?: number;
  rpc?: Record<string, unknown>;
}

export interface Hop {
  pool: string;
  token_in: string;
  token_out: string;
  fee_bps: number;
}

export interface Opportunity {
  id: string;
  strategy: string;
  chain: string;
  block: number;
  token: string;
  amount_in: string;
  expected_profit: string;
  gas_cost: string;
  net_profit: string;
  cycle: Hop[];
  status: string;
  reason: string;
  tx_hash: string | null;
  found_at: number;
}

/** The trades stream's data: one execution result of an opportunity (id = the opportunity's). */
export interface TradeEvent {
  id: string;
  strategy: string;
  chain: string;
  status: string;
  tx_hash: string | null;
  block: number | null;
  gas_used: number | null;
  realized_profit: string | null;
  expected_profit: string;
  token: string;
  reason: string;
}

export interface Trade {
  id: string;
  opportunity_id?: string | null;
  chain: string;
  strategy: string;
  sender?: string | null;
  nonce?: number | null;
  tx_hash: string;
  status: string;
  token: string;
  amount_in: string | null;
  block: number | null;
  gas_used: number | null;
  effective_gas_price: string | null;
  realized_profit: string | null;
  gas_cost_wei: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface TradePage {
  items: Trade[];
  total: number;
  page: number;
  page_size: number;
  pages: number;
}

export interface Strategy {
  name: string;
  type: string | null;
  stage: string | null;
  mode?: string;
  chains: string[];
  enabled_in_file: boolean | null;
  loaded: boolean;
  enabled: boolean;
}

export interface Headroom {
  used_usd: number;
  limit_usd: number;
  source: string;
  headroom_ratio: number;
}

export interface RiskState {
  enabled: boolean;
  emergency_stop?: string | null | boolean;
  active_strategies?: string[];
  open_trades?: number;
  breakers?: Record<string, unknown>;
  headroom?: Record<string, Headroom>;
}

export interface NodeService {
  service: string;
  client: string;
  state: string;
  pid: number | null;
  detail: string;
}

export interface NodeCheck {
  client: string;
  name: string;
  ok: boolean;
  detail: string;
}

export interface NodeItem {
  name: string;
  chain: string;
  network: string;
  backend: string;
  services: NodeService[];
  head: number | null;
  lag: number | null;
  peers: number | null;
  syncing: boolean | null;
  healthy: boolean;
  checks: NodeCheck[];
  last_backup: { at: string; archive: string; bytes: number } | null;
}

export interface NodesSnapshot {
  checked_at: string | null;
  items: NodeItem[];
}

export interface AlertData {
  severity: string;
  alert: string;
  message: string;
  engine?: string;
  [label: string]: unknown;
}

export interface AlertItem {
  seq: number;
  at: number;
  data: AlertData;
}
