import { useEffect, useState } from 'react';

export const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'opportunities', label: 'Opportunities' },
  { id: 'trades', label: 'Trades' },
  { id: 'strategies', label: 'Strategies' },
  { id: 'risk', label: 'Risk' },
  { id: 'nodes', label: 'Nodes' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

/** "#/trades?x=1" → "trades"; anything unknown → "overview". */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '').split(/[?/]/)[0];
  return (PAGES.find((p) => p.id === id)?.id ?? 'overview') as PageId;
}

export function useHashRoute(): PageId {
  const [page, setPage] = useState<PageId>(() => pageFromHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageFromHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return page;
}
