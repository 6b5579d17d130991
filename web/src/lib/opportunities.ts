import type { Opportunity, TradeEvent } from '../types';

export const MAX_ROWS = 200;

/** A new opportunity goes on top (replacing an older copy of it); the list stays bounded. */
export function addOpportunity(list: Opportunity[], opp: Opportunity, max = MAX_ROWS): Opportunity[] {
  return [opp, ...list.filter((o) => o.id !== opp.id)].slice(0, max);
}

/** A result from the trades stream updates the opportunity it belongs to (same id). */
export function applyTradeEvent(list: Opportunity[], event: TradeEvent): Opportunity[] {
  let hit = false;
  const next = list.map((o) => {
    if (o.id !== event.id) return o;
    hit = true;
    return { ...o, status: event.status, reason: event.reason ?? o.reason, tx_hash: event.tx_hash ?? o.tx_hash };
  });
  return hit ? next : list;
}

/** What became of it, in words. */
export function outcome(o: Pick<Opportunity, 'status' | 'reason'> & { block?: number }, lastBlock?: number | null): string {
  switch (o.status) {
    case 'found':
      // the engine takes a bounded number per block: one still "found" once its block is past was not executed
      return lastBlock != null && o.block !== undefined && o.block < lastBlock ? 'not executed (no result for it)' : 'found: waiting for simulation';
    case 'paper':
      return 'simulated ok (paper trade: not sent)';
    case 'simulated_fail':
      return `simulation failed${o.reason ? `: ${o.reason}` : ''}`;
    case 'refused':
      return `refused by risk${o.reason ? `: ${o.reason}` : ''}`;
    case 'sent':
      return 'simulated ok, sent: waiting to be mined';
    case 'mined':
      return 'landed';
    case 'reverted':
      return `reverted on chain${o.reason ? `: ${o.reason}` : ''}`;
    case 'dropped':
      return `dropped${o.reason ? `: ${o.reason}` : ''}`;
    default:
      return o.reason || o.status;
  }
}
