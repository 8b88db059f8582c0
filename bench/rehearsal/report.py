"""The rehearsal's report: index.html with PNG plots, the ramp's steps, the invariants and the
capacity plan, built from the files a run leaves in its results folder (and only from them, so
`python -m bench.rehearsal.report DIR` rebuilds it, and a test builds one from canned files).
"""

import html
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the file-only backend

from bench.rehearsal import capacity  # noqa: E402
from bench.rehearsal import plan as plans

ENDPOINTS = ("home", "miss", "search", "mission", "signup", "apply")


def load(out: Path) -> dict:
    def read(name, default):
        path = out / name
        return json.loads(path.read_text()) if path.exists() else default

    samples = []
    if (out / "samples.jsonl").exists():
        samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines() if x]
    return {
        "plan": read("plan.json", {}),
        "per_second": read("per_second.json", []),
        "faults": read("faults.json", None),
        "ramp": read("ramp.json", {"steps": []}),
        "summary": read("summary.json", {}),
        "samples": samples,
    }


def shade(ax, windows, switches) -> None:
    for w in windows:
        ax.axvspan(w["start"], w["end"], color="tab:red", alpha=0.12)
        ax.text(
            w["start"],
            1.0,
            w["name"],
            transform=ax.get_xaxis_transform(),
            fontsize=6,
            rotation=90,
            va="top",
            color="tab:red",
        )
    for s in switches:
        ax.axvline(s["at"], color="tab:purple", linestyle="--", linewidth=0.8)
        ax.text(
            s["at"],
            0.0,
            s["name"],
            transform=ax.get_xaxis_transform(),
            fontsize=6,
            rotation=90,
            va="bottom",
            color="tab:purple",
        )


def series(per_second, name, field):
    """One value per second; a second without requests is 0 requests, and a gap in latency
    (NaN), so that lines do not bridge the quiet phases."""
    rows = {r["t"]: r[field] for r in per_second if r["name"] == name}
    if not rows:
        return [], []
    t = list(range(min(rows), max(rows) + 1))
    empty = 0 if field in ("count", "failures", "5xx") else float("nan")
    return t, [rows.get(second, empty) for second in t]


def plots(data: dict, out: Path) -> list[str]:
    plan, per_second, samples = data["plan"], data["per_second"], data["samples"]
    faults = data["faults"] if data["faults"] is not None else plan.get("faults", [])
    windows = plans.windows(plan, faults)
    switches = [f for f in faults if f.get("switch")]
    names = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)

    fig, ax = plt.subplots(figsize=(11, 4))
    for name in ENDPOINTS:
        t, y = series(per_second, name, "count")
        if t:
            ax.plot(t, y, label=name, linewidth=0.9)
    shade(ax, windows, switches)
    ax.set(title="Requests per second per endpoint", xlabel="seconds", ylabel="req/s")
    ax.legend(fontsize=7)
    save(fig, "requests.png")

    present = [n for n in ENDPOINTS if any(r["name"] == n for r in per_second)]
    fig, axes = plt.subplots(
        len(present) or 1, 1, figsize=(11, 2.2 * max(len(present), 1)), sharex=True, squeeze=False
    )
    for ax, name in zip(axes[:, 0], present, strict=False):
        for field in ("p50", "p95", "p99"):
            t, y = series(per_second, name, field)
            ax.plot(t, y, label=field, linewidth=0.8)
        ax.set_yscale("log")
        ax.set_ylabel(f"{name} ms")
        shade(ax, windows, switches)
        ax.legend(fontsize=6, loc="upper left")
    axes[0, 0].set_title("Latency per endpoint (p50/p95/p99 of each second)")
    save(fig, "latency.png")

    fig, ax = plt.subplots(figsize=(11, 3.5))
    for name in present:
        t, y = series(per_second, name, "5xx")
        t2, y2 = series(per_second, name, "failures")
        if any(y) or any(y2):
            ax.plot(t, y, label=f"{name} 5xx/refused", linewidth=0.9)
            ax.plot(t2, y2, label=f"{name} failures", linewidth=0.6, linestyle=":")
    shade(ax, windows, switches)
    ax.set(title="Errors per second", xlabel="seconds", ylabel="answers")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    save(fig, "errors.png")

    if samples:
        t = [s["t"] for s in samples]
        fig, ax = plt.subplots(figsize=(11, 3.5))
        for key in ("stream", "outbox_pending", "outbox_sending", "celery_queue"):
            ax.plot(t, [s.get(key) for s in samples], label=key, linewidth=0.9)
        shade(ax, windows, switches)
        ax.set(title="Backlog: signup stream, outbox, Celery queue", xlabel="seconds")
        ax.legend(fontsize=7)
        save(fig, "backlog.png")

        fig, ax = plt.subplots(figsize=(11, 4))
        components = sorted({c for s in samples for c in s["cpu"]})
        for component in components:
            values = [s["cpu"].get(component, 0) for s in samples]
            rate = [0.0] + [
                max(0.0, (values[i] - values[i - 1]) / max(t[i] - t[i - 1], 1e-3))
                for i in range(1, len(values))
            ]
            ax.plot(t, rate, label=component, linewidth=0.8)
        shade(ax, windows, switches)
        ax.set(title="CPU per process group (cores)", xlabel="seconds", ylabel="cores")
        ax.legend(fontsize=7, ncol=3)
        save(fig, "cpu.png")

        if any("replica_lag_s" in s for s in samples):
            fig, ax = plt.subplots(figsize=(11, 3))
            ax.plot(t, [s.get("replica_lag_s") for s in samples], label="replay lag (s)")
            ax.set(title="Read replica lag, as the primary sees it", xlabel="seconds")
            behind = ax.twinx()
            behind.plot(
                t,
                [(s.get("replica_behind_bytes") or 0) / 1024 for s in samples],
                color="tab:orange",
                linewidth=0.7,
                label="WAL not yet replayed (kB)",
            )
            shade(ax, windows, switches)
            fig.legend(fontsize=7, loc="upper right")
            save(fig, "replica.png")
    return names


def table(rows: list[list], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def replica_section(summary: dict, samples: list[dict]) -> str:
    """What the read replica did: the reads it took from the primary, and how far behind."""
    reads = summary.get("replica")
    if not reads:
        return ""
    replica, primary = reads["replica"], reads["primary"]
    share = replica["scans"] / max(replica["scans"] + primary["scans"], 1)
    lags = [s["replica_lag_s"] for s in samples if s.get("replica_lag_s") is not None]
    behind = [s["replica_behind_bytes"] for s in samples if "replica_behind_bytes" in s]
    clone = summary.get("timings", {}).get("replica_clone_seconds")
    return (
        "<h2>Read replica</h2><p>A streaming replica cloned from the primary with "
        f"pg_basebackup (deploy/postgres-replica.sh, {clone} s) and read by both web instances "
        "(DATABASE_REPLICA_URL: search, mission and organisation pages, the missions API; "
        "portal/replica.py). During the load it served "
        f"<b>{replica['scans']:,}</b> table scans ({100 * share:.0f}% of all; the missions "
        f"table: {replica['mission_scans']:,} on the replica, {primary['mission_scans']:,} "
        f"on the primary) in {replica['transactions']:,} transactions. Replay lag: "
        f"{max(lags, default=0):.2f} s at most, {sum(lags) / max(len(lags), 1):.3f} s on "
        f"average; at most {max(behind, default=0) / 1024:.0f} kB of WAL not yet replayed "
        f"(reads go back to the primary beyond REPLICA_MAX_LAG).</p>"
    )


def build(out: Path) -> Path:
    data = load(out)
    images = plots(data, out) if data["plan"] else []
    summary, plan = data["summary"], data["plan"]
    costs, plan_figures = {}, {}
    if data["samples"] and data["per_second"]:
        costs = capacity.per_request(plan, data["samples"], data["per_second"])
        plan_figures = capacity.plan_for(
            costs,
            summary.get("sizes", {}).get("database_bytes", 0),
            summary.get("sizes", {}).get("redis_bytes"),
        )
        (out / "capacity.json").write_text(
            json.dumps({"per_request": costs, "plan": plan_figures}, indent=2)
        )
    parts = [
        "<!doctype html><meta charset=utf-8><title>Launch rehearsal</title>",
        "<style>body{font-family:sans-serif;max-width:1150px;margin:auto}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;"
        "font-size:13px}.ok{color:green}.fail{color:#b00}</style>",
        f"<h1>Launch rehearsal ({'QUICK' if plan.get('quick') else 'full'})</h1>",
        f"<p>Run {html.escape(str(summary.get('run_id', '')))}; data "
        f"{html.escape(json.dumps(plan.get('data', {})))}; timings "
        f"{html.escape(json.dumps(summary.get('timings', {})))}; first portal: "
        f"{html.escape(str(summary.get('first_portal', '')))}</p>",
        "<h2>Invariants</h2><ul>",
    ]
    for check in summary.get("invariants", []):
        css = "ok" if check["ok"] else "fail"
        parts.append(
            f"<li class={css}><b>{'ok' if check['ok'] else 'FAILED'}</b> "
            f"{html.escape(check['name'])}: {html.escape(check['detail'])}</li>"
        )
    parts.append(
        "</ul><h2>Signup ramp (a step holds while p95 ≤ "
        f"{plan.get('limits', {}).get('p95_ms')} ms and errors ≤ "
        f"{100 * plan.get('limits', {}).get('errors', 0):.0f}%)</h2>"
    )
    ramp = data["ramp"]
    parts.append(
        table(
            [
                [
                    s["step"],
                    s["offered_per_s"],
                    s["achieved_per_s"],
                    round(s["p50_ms"]) if s["p50_ms"] is not None else "",
                    round(s["p95_ms"]) if s["p95_ms"] is not None else "",
                    f"{100 * s['error_share']:.2f}%",
                    "yes" if s["held"] else "no",
                ]
                for s in ramp["steps"]
            ],
            ["step", "offered signups/s", "achieved/s", "p50 ms", "p95 ms", "errors", "held"],
        )
    )
    parts.append(
        f"<p>Saturation: first step over the limits at "
        f"<b>{ramp.get('saturated_at') or 'none (every step held)'}</b> signups/s; "
        f"last step held: <b>{ramp.get('held') or 'none'}</b> signups/s.</p>"
    )
    parts.append("<h2>Faults (seconds from the start of the load)</h2>")
    parts.append(
        table(
            [
                [f["name"], f["at"], f.get("end", ""), f.get("error", "")]
                for f in (data["faults"] or [])
            ],
            ["fault", "at", "end", "error"],
        )
    )
    parts.append(replica_section(summary, data["samples"]))
    for image in images:
        parts.append(f"<p><img src='{image}' style='max-width:100%'></p>")
    if costs:
        components = sorted({c for k in costs.values() for c in k["cpu_ms"]})
        parts.append("<h2>CPU milliseconds per request, per component (calibration)</h2>")
        parts.append(
            table(
                [
                    [kind, v["requests"], *[v["cpu_ms"].get(c, 0) for c in components]]
                    for kind, v in costs.items()
                ],
                ["kind", "requests", *components],
            )
        )
        signup = costs.get("signup", {})
        parts.append(
            f"<p>Emails during the signup phase: {signup.get('emails')}; CPU ms per "
            f"email: {signup.get('email_cpu_ms')}</p>"
        )
        parts.append("<h2>Capacity plan</h2>")
        targets = plan_figures["targets"]
        parts.append(
            f"<p>{targets['signups_per_s']} signups/s and {targets['visitors']:,} "
            f"visitors in {targets['minutes']} minutes ({targets['visitors_per_s']}/s, "
            f"each {targets['visitor_mix']}); every CPU planned "
            f"{int(100 * targets['utilisation'])}% busy.</p>"
        )
        rows = []
        for name, cores in plan_figures["cores"].items():
            size = plan_figures["sizing"][name]
            rows.append(
                [
                    name,
                    json.dumps(cores),
                    size["web_containers"],
                    size["worker_containers"],
                    size["postgres_cpus"],
                    size.get("postgres_replica_cpus", ""),
                    size["nginx_cores"],
                ]
            )
        rows.append(
            [
                "March 2020",
                "",
                plan_figures["march_2020"]["app_containers"],
                "",
                plan_figures["march_2020"]["database"],
                "",
                "",
            ]
        )
        parts.append(
            table(
                rows,
                [
                    "",
                    "cores per component",
                    "web containers (1 CPU)",
                    "worker containers",
                    "PostgreSQL CPUs",
                    "replica CPUs",
                    "nginx cores",
                ],
            )
        )
        parts.append(
            f"<p>PostgreSQL memory: {plan_figures['postgres_memory_gb']} GB "
            f"(twice the {plan_figures['database_bytes'] / 2**30:.1f} GiB database); "
            f"Redis memory at the end: {plan_figures['redis_bytes']}.</p>"
        )
    load_cpu = [s["cpu"].get("locust", 0) for s in data["samples"]]
    if len(load_cpu) > 1:
        seconds = data["samples"][-1]["t"] - data["samples"][0]["t"]
        parts.append(
            f"<p>Load generator (Locust): {load_cpu[-1] - load_cpu[0]:.1f} CPU s over "
            f"{seconds:.0f} s ({(load_cpu[-1] - load_cpu[0]) / max(seconds, 1):.2f} "
            "cores on average).</p>"
        )
    parts.append(
        "<p>Locust's own report: <a href='locust.html'>locust.html</a>, CSV files locust_*.csv.</p>"
    )
    page = out / "index.html"
    page.write_text("\n".join(parts))
    return page


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
