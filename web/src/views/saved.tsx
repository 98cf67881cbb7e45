// Saved searches (#/saved): each opens as a search (its query and range in
// the hash) and can be deleted. They are made with "Save" in the search view.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { errorText } from '../components/event-detail';
import { DEFAULT_RANGE, describe, isRelative, type Range } from '../components/time-range';
import type { ViewProps } from './index';
import { searchHref } from './search';
import './search.css';

interface SavedSearch {
  id: string;
  name: string;
  q: string;
  from: string | null;
  to: string | null;
  owner: string;
  updated_at: string;
}

function rangeOf(s: SavedSearch): Range {
  return { from: s.from || DEFAULT_RANGE.from, to: s.to || DEFAULT_RANGE.to };
}

export function SavedView(_props: ViewProps) {
  const [searches, setSearches] = useState<SavedSearch[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    api<{ searches: SavedSearch[] }>('/api/v1/searches', { signal: ac.signal }).then(
      (a) => setSearches(a.searches),
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    return () => ac.abort();
  }, [reloads]);

  const remove = async (s: SavedSearch) => {
    try {
      await api(`/api/v1/searches/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
      setConfirming(null);
      setReloads((n) => n + 1);
    } catch (err) {
      setError(errorText(err));
    }
  };

  let body;
  if (!searches && !error) body = <p class="hint">Loading saved searches…</p>;
  else if (searches && searches.length === 0) body = <p>No saved searches yet. Run a search and press Save to keep it here.</p>;
  else if (searches)
    body = (
      <table class="saved" aria-label="Saved searches">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Query</th>
            <th scope="col">Range</th>
            <th scope="col">Saved by</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {searches.map((s) => {
            const r = rangeOf(s);
            return (
              <tr key={s.id}>
                <td>
                  <a href={searchHref(s.q, r)}>{s.name}</a>
                </td>
                <td>
                  <code>{s.q || '(everything)'}</code>
                </td>
                <td>{isRelative(r) ? `last ${r.from}` : describe(r)}</td>
                <td>{s.owner}</td>
                <td>
                  <div class="row-actions">
                    {confirming === s.id ? (
                      <>
                        <button type="button" class="danger" onClick={() => void remove(s)}>
                          Delete “{s.name}”
                        </button>
                        <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" class="secondary" aria-label={`Delete ${s.name}`} onClick={() => setConfirming(s.id)}>
                        Delete
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    );
  return (
    <section class="view saved-view">
      <h2>Saved searches</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {body}
    </section>
  );
}
