/** The engine's REST API (/api/v1), same origin as the page, with a bearer token. */

export const API_PREFIX = '/api/v1';

export type Role = 'viewer' | 'operator' | 'admin';

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Params = Record<string, string | number | boolean | null | undefined>;

export interface Api {
  get<T>(path: string, params?: Params | URLSearchParams): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

export interface ApiOptions {
  fetch?: typeof fetch;
  /** Called on any 401 (the token is unknown or revoked): the app goes back to its login. */
  onUnauthorized?: () => void;
  prefix?: string;
  /** Retry a GET answered 429 once after its Retry-After (capped), default true. */
  retryRateLimited?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

export function buildQuery(params?: Params | URLSearchParams): string {
  if (!params) return '';
  const search = params instanceof URLSearchParams ? params : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) {
    for (const [key, value] of Object.entries(params)) {
      if (value === null || value === undefined || value === '') continue;
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function problem(response: Response): Promise<string> {
  try {
    const body = await response.json();
    const detail = body?.detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => (typeof d === 'object' && d ? `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}` : String(d))).join('; ');
    }
    return JSON.stringify(body);
  } catch {
    return response.statusText || `HTTP ${response.status}`;
  }
}

export function createApi(token: string, options: ApiOptions = {}): Api {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const prefix = options.prefix ?? API_PREFIX;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retry = options.retryRateLimited ?? true;

  async function call<T>(method: string, path: string, body: unknown, attempt: number): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await doFetch(`${prefix}${path}`, init);
    } catch (err) {
      throw new ApiError(0, `the engine did not answer (${err instanceof Error ? err.message : String(err)})`);
    }
    if (response.ok) return (await response.json()) as T;
    const message = await problem(response);
    if (response.status === 401) {
      options.onUnauthorized?.();
      throw new ApiError(401, `invalid token: ${message}`);
    }
    if (response.status === 429) {
      const header = Number(response.headers.get('Retry-After'));
      const wait = Number.isFinite(header) && header > 0 ? header : 1;
      if (retry && method === 'GET' && attempt === 0 && wait <= 10) {
        await sleep(wait * 1000);
        return call<T>(method, path, body, attempt + 1);
      }
      throw new ApiError(429, `rate limited: try again in ${wait}s`, wait);
    }
    if (response.status === 403) throw new ApiError(403, `not allowed: ${message}`);
    throw new ApiError(response.status, message);
  }

  return {
    get: <T,>(path: string, params?: Params | URLSearchParams) => call<T>('GET', `${path}${buildQuery(params)}`, undefined, 0),
    post: <T,>(path: string, body?: unknown) => call<T>('POST', path, body, 0),
  };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
