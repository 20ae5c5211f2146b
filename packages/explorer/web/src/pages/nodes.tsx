import { ago, api, bytes, GIB, type NodeView, type Page } from "../api.ts";
import { useData } from "../live.ts";

const FIELDS: { name: string; label: string; type: "text" | "number" | "select"; options?: string[]; unit?: number }[] = [
  { name: "status", label: "Status", type: "select", options: ["", "up", "standby", "down"] },
  { name: "country", label: "Country", type: "text" },
  { name: "city", label: "City", type: "text" },
  { name: "farm_id", label: "Farm id", type: "number" },
  { name: "free_cru", label: "Free vCPUs ≥", type: "number" },
  { name: "free_mru", label: "Free memory GiB ≥", type: "number", unit: GIB },
  { name: "free_sru", label: "Free SSD GiB ≥", type: "number", unit: GIB },
  { name: "free_ips", label: "Free public IPs ≥", type: "number" },
  { name: "domain", label: "Domain", type: "select", options: ["", "true", "false"] },
  { name: "rented", label: "Rented", type: "select", options: ["", "true", "false"] },
];

export function NodesPage({ query }: { query: string }) {
  const params = new URLSearchParams(query);
  const page = Number(params.get("page") ?? "1");
  const { data, error } = useData(() => api<Page<NodeView>>(`/api/v1/nodes?${params.toString()}`), [query]);
  const go = (p: URLSearchParams) => { location.hash = `/nodes?${p.toString()}`; };
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const p = new URLSearchParams();
    for (const f of FIELDS) {
      const v = (form.elements.namedItem(f.name) as HTMLInputElement).value.trim();
      if (v) p.set(f.name, f.unit ? String(Math.round(Number(v) * f.unit)) : v);
    }
    for (const k of ["sort_by", "sort_order"]) { const v = params.get(k); if (v) p.set(k, v); }
    go(p);
  };
  const sort = (by: string) => {
    const p = new URLSearchParams(params);
    p.set("sort_order", p.get("sort_by") === by && p.get("sort_order") !== "desc" ? "desc" : "asc");
    p.set("sort_by", by);
    p.delete("page");
    go(p);
  };
  const th = (by: string | undefined, label: string) => {
    const active = by && params.get("sort_by") === by;
    return <th scope="col" aria-sort={active ? (params.get("sort_order") === "desc" ? "descending" : "ascending") : undefined}>
      {by ? <button type="button" class="link" onClick={() => sort(by)}>{label}{active ? (params.get("sort_order") === "desc" ? " ▼" : " ▲") : ""}</button> : label}
    </th>;
  };
  const size = 50;
  return (
    <>
      <h1>Nodes</h1>
      {/* Uncontrolled fields, made again (key) when the URL's query changes: a controlled `value`
          was re-applied by every re-render (the data arriving, a live update) and wiped what the
          user was typing (the dashboard test saw a typed filter lost under load). */}
      <form class="filters" key={query} onSubmit={onSubmit} aria-label="node filters">
        {FIELDS.map((f) => {
          const raw = params.get(f.name) ?? "";
          const value = f.unit && raw ? String(Number(raw) / f.unit) : raw;
          return <label key={f.name}>{f.label}
            {f.type === "select"
              ? <select name={f.name}>{f.options!.map((o) => <option value={o} selected={o === value}>{o || "any"}</option>)}</select>
              : f.type === "number" ? <input name={f.name} type="number" min={0} defaultValue={value} /> : <input name={f.name} type="text" defaultValue={value} />}
          </label>;
        })}
        <div class="actions"><button type="submit">Apply</button><button type="button" onClick={() => go(new URLSearchParams())}>Clear</button></div>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <p role="status" class="muted">{data ? `${data.total} node${data.total === 1 ? "" : "s"}` : "Loading…"}</p>
      <div class="table-wrap">
        <table>
          <thead><tr>{th("id", "Node")}<th scope="col">Status</th>{th("farm_id", "Farm")}<th scope="col">Location</th>
            {th("free_cru", "Free vCPUs")}{th("free_mru", "Free memory")}{th("free_sru", "Free SSD")}<th scope="col">IPs</th>{th("last_seen", "Last seen")}</tr></thead>
          <tbody>
            {data?.items.map((n) => (
              <tr key={n.id} data-node={n.id}>
                <td><a href={`#/nodes/${n.id}`}>{n.id}</a></td>
                <td><span class={`badge ${n.status}`}>{n.status}</span></td>
                <td><a href={`#/farms/${n.farm_id}`}>{n.farm_name}</a></td>
                <td>{[n.location.city, n.location.country].filter(Boolean).join(", ") || "–"}</td>
                <td>{n.free.cru}</td><td>{bytes(n.free.mru)}</td><td>{bytes(n.free.sru)}</td><td>{n.free_ips}</td>
                <td>{ago(n.last_seen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.total > size && (
        <nav class="pager" aria-label="pages">
          <button type="button" disabled={page <= 1} onClick={() => { const p = new URLSearchParams(params); p.set("page", String(page - 1)); go(p); }}>Previous</button>
          <span>page {page} of {Math.ceil(data.total / size)}</span>
          <button type="button" disabled={page * size >= data.total} onClick={() => { const p = new URLSearchParams(params); p.set("page", String(page + 1)); go(p); }}>Next</button>
        </nav>
      )}
    </>
  );
}
