import { api, type Farm, type NodeView, type Page } from "../api.ts";
import { useData } from "../live.ts";

export function FarmPage({ id }: { id: number }) {
  const { data: f, error } = useData(() => api<Farm>(`/api/v1/farms/${id}`), [id]);
  const { data: nodes } = useData(() => api<Page<NodeView>>(`/api/v1/nodes?farm_id=${id}&size=100`), [id]);
  if (!f) return <p role="status" class={error ? "error" : ""}>{error ?? "Loading…"}</p>;
  return (
    <>
      <h1>Farm {f.name} <small class="muted">#{f.id}</small></h1>
      <section class="cards">
        <div class="card"><strong>{f.nodes}</strong><span>nodes</span></div>
        <div class="card standby"><strong>{f.standby_nodes}</strong><span>in standby (energy saved)</span></div>
        <div class="card"><strong>{f.free_ips}/{f.ips}</strong><span>public IPs free</span></div>
        <div class="card"><strong>{f.dedicated ? "yes" : "no"}</strong><span>dedicated</span></div>
      </section>
      <h2>Nodes</h2>
      <ul class="chips">{nodes?.items.map((n) => <li key={n.id}><a href={`#/nodes/${n.id}`}>node {n.id}</a> <span class={`badge ${n.status}`}>{n.status}</span></li>)}</ul>
      <h2>Public IPs</h2>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">IP</th><th scope="col">Gateway</th><th scope="col">Contract</th></tr></thead>
          <tbody>{f.public_ips?.map((ip) => <tr key={ip.ip}><td>{ip.ip}</td><td>{ip.gateway}</td><td>{ip.contract_id || "free"}</td></tr>)}</tbody>
        </table>
      </div>
    </>
  );
}
