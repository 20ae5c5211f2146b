import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BusMetrics } from "./bus-metrics.ts";
import { busMetricsToPrometheus } from "./prometheus-text.ts";

describe("bus metrics", () => {
  test("histogram buckets are cumulative and quantiles come from them; Prometheus text lists them", () => {
    const m = new BusMetrics();
    for (const ms of [0.1, 0.3, 0.3, 4, 40_000]) m.outbound.latency.observe(ms);
    m.outbound.requests = 5;
    m.outbound.error("BUS_TIMEOUT");
    const snap = m.snapshot(2);
    assert.equal(snap.outbound.latencyMs.count, 5);
    assert.deepEqual(snap.outbound.latencyMs.buckets.slice(0, 2), [{ le: 0.25, count: 1 }, { le: 0.5, count: 3 }]);
    assert.deepEqual(snap.outbound.latencyMs.buckets.at(-1), { le: "+Inf", count: 5 });
    assert.equal(snap.outbound.latencyMs.p50, 0.5);
    assert.equal(snap.outbound.latencyMs.p99, Infinity);
    const text = busMetricsToPrometheus(snap, { twin: "12" });
    assert.match(text, /^zgrid_bus_requests_total\{twin="12",direction="outbound"\} 5$/m);
    assert.match(text, /^zgrid_bus_errors_total\{twin="12",direction="outbound",code="BUS_TIMEOUT"\} 1$/m);
    assert.match(text, /^zgrid_bus_latency_ms_bucket\{twin="12",direction="outbound",le="\+Inf"\} 5$/m);
    assert.match(text, /^zgrid_bus_channels\{twin="12"\} 2$/m);
    const guarded = busMetricsToPrometheus(m.snapshot(0, { unprovenConnections: 3, unprovenBufferedBytes: 4096, provenBufferedBytes: 0, refusedConnections: 1, refusedStreams: 2, resetStreams: 0, closedIdle: 7 }), { twin: "12" });
    assert.match(guarded, /^zgrid_bus_unproven_connections\{twin="12"\} 3$/m);
    assert.match(guarded, /^zgrid_bus_buffered_bytes\{twin="12",peers="unproven"\} 4096$/m);
    assert.match(guarded, /^zgrid_bus_guard_actions_total\{twin="12",action="closed_idle"\} 7$/m);
  });
});
