/** Token metadata (symbol, decimals) for formatting raw amounts. Learned from the engine's PnL
 * series (GET /history/pnl), with a few well-known mainnet tokens built in; an unknown token is
 * shown by its short address and assumed to have 18 decimals (flagged as assumed). */
import { shortHash } from './format';

export interface TokenMeta {
  symbol: string;
  decimals: number;
  known: boolean;
}

const BUILT_IN: Record<string, [string, number]> = {
  '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2': ['WETH', 18],
  '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48': ['USDC', 6],
  '0xdac17f958d2ee523a2206206994597c13d831ec7': ['USDT', 6],
  '0x6b175474e89094c44da98b954eedeac495271d0f': ['DAI', 18],
  '0x2260fac5e5542a773aa44fbcfedf7c193bc2c599': ['WBTC', 8],
};

const learned = new Map<string, TokenMeta>();

export function registerToken(address: string, symbol: string, decimals: number): void {
  if (!address || !Number.isInteger(decimals) || decimals < 0 || decimals > 255) return;
  learned.set(address.toLowerCase(), { symbol, decimals, known: true });
}

export function tokenMeta(address: string | null | undefined): TokenMeta {
  if (!address) return { symbol: '', decimals: 18, known: false };
  const key = address.toLowerCase();
  const hit = learned.get(key);
  if (hit) return hit;
  const builtIn = BUILT_IN[key];
  if (builtIn) return { symbol: builtIn[0], decimals: builtIn[1], known: true };
  return { symbol: shortHash(address), decimals: 18, known: false };
}

/** Learn from a GET /history/pnl answer: its series' tokens, and its `tokens` map when the engine sends one. */
export function learnTokens(body: { series?: { token: string; symbol: string; decimals: number }[]; tokens?: Record<string, { symbol: string; decimals: number }> } | null): void {
  for (const s of body?.series ?? []) registerToken(s.token, s.symbol, s.decimals);
  for (const [address, meta] of Object.entries(body?.tokens ?? {})) {
    if (meta && typeof meta.symbol === 'string') registerToken(address, meta.symbol, meta.decimals);
  }
}

export function clearLearnedTokens(): void {
  learned.clear();
}
