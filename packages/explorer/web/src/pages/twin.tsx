import { api, bytes, type Contract, type Page } from "../api.ts";
import { useData } from "../live.ts";

export function TwinPage({ id }: { id: number }) {
  const { data, error } = useData(() => api<Page<Contract>>(`/api/v1/contracts?twin_id=${id}&size=100`), [id]);
  if (!data) return <p role="status" class={error ? "error" : ""}>{error ?? "Loading…"}</p>;
  const live = data.items.filter((c) => c.state !== "deleted");
  const perHour = live.reduce((s, c) => s + c.cost_per_hour_usd, 0);
  return (
    <>
      <h1>Twin {id}: contracts</h1>
      <section class="cards">
        <div class="card"><strong>{live.length}</strong><span>live contracts</span></div>
        <div class="card"><strong data-testid="cost-per-hour">${perHour.toFixed(4)}</strong><span>per hour (list price)</span></div>
      </section>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Contract</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Node / name</th>
            <th scope="col">Used</th><th scope="col">IPs</th><th scope="col">USD / hour</th></tr></thead>
          <tbody>
            {data.items.map((c) => (
              <tr key={c.id} data-contract={c.id}>
                <td>{c.id}</td><td>{c.kind}</td><td><span class={`badge ${c.state}`}>{c.state}</span></td>
                <td>{c.node_id ? <a href={`#/nodes/${c.node_id}`}>node {c.node_id}</a> : c.name}</td>
                <td>{c.used.cru} vCPU, {bytes(c.used.mru)}</td><td>{c.public_ips}</td><td>{c.cost_per_hour_usd.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
