"""pages: the anonymous home page with a warm page cache, uncached, and behind nginx's
micro-cache (bench/nginx.conf), each next to a reference measured in the same run."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.harness import RESULTS, ROOT, ensure_static, gunicorn, run_wrk
from portal.testing.servers import free_port

NGINX_CONF = ROOT / "bench" / "nginx.conf"


def home_against_ping(server, label: str, seconds: int, warmup: int, warm_path: str):
    """The home page and the bare view in the same processes, after a warm-up on `warm_path`."""
    for _ in range(3):
        assert server.get("/fr/").status_code == 200
    run_wrk(server, warm_path, warmup, "reference.lua", f"{label}-warmup")
    reference = run_wrk(server, "/_ping", seconds, "reference.lua", f"{label}-reference")
    return reference, run_wrk(server, "/fr/", seconds, "reference.lua", f"{label}-home")


def run(args) -> dict:
    """Reference: the bare view (/_ping) in the same gunicorn processes."""
    seconds, warmup = args.seconds, args.warmup
    report = {}
    ensure_static()
    with gunicorn("pages") as server:
        reference, cached = home_against_ping(server, "pages-cached", seconds, warmup, "/_ping")
        report["reference_req_per_s"] = reference["req_per_s"]
        report["home_cached"] = cached
        report["cached_ratio"] = round(cached["req_per_s"] / reference["req_per_s"], 2)
        report["nginx"] = bench_nginx(server, seconds, warmup)
    with gunicorn("pages-nocache", PAGE_CACHE_ENABLED="false") as server:
        reference, uncached = home_against_ping(server, "pages-uncached", seconds, warmup, "/fr/")
        report["reference_req_per_s_uncached_run"] = reference["req_per_s"]
        report["home_uncached"] = uncached
        report["uncached_ratio"] = round(uncached["req_per_s"] / reference["req_per_s"], 2)
    report["targets"] = {"cached_ratio": 1.5, "uncached_ratio": 0.15}
    return report


def cache_dir(root: Path) -> Path:
    """The micro-cache in memory (tmpfs), as a container would mount /var/cache/nginx."""
    shm = Path("/dev/shm")
    return shm / f"{root.name}-cache" if shm.is_dir() else root / "cache"


def nginx_conf(cache: Path, upstream_port: int, port: int, root: Path) -> str:
    conf = NGINX_CONF.read_text()
    values = {"CACHE": cache, "UPSTREAM_PORT": upstream_port, "PORT": port, "ROOT": root}
    for name, value in values.items():
        conf = conf.replace(f"@{name}@", str(value))
    return conf


def bench_nginx(server, seconds: int, warmup: int) -> dict:
    """The micro-cached home page next to nginx serving a small static file."""
    nginx = shutil.which("nginx")
    if nginx is None:
        return {"skipped": "nginx is not installed (apt-get install -y nginx-light)"}

    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        root = Path(tmp)
        (root / "static.txt").write_text("x" * 512)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(nginx_conf(cache_dir(root), server.port, port, root))
        process = subprocess.Popen(
            [nginx, "-p", str(root), "-c", str(conf), "-g", f"daemon off; pid {root}/nginx.pid;"],
            stdout=subprocess.DEVNULL,
            stderr=open(RESULTS / "nginx.log", "w"),  # noqa: SIM115
        )
        try:
            front = SimpleNamespace(url=f"http://127.0.0.1:{port}")
            time.sleep(0.5)
            if process.poll() is not None:
                return {"skipped": f"nginx did not start: {(RESULTS / 'nginx.log').read_text()}"}
            run_wrk(front, "/fr/", warmup, "reference.lua", "nginx-warmup")
            static = run_wrk(front, "/static.txt", seconds, "reference.lua", "nginx-static")
            micro = run_wrk(front, "/fr/", seconds, "reference.lua", "nginx-microcache")
        finally:
            process.terminate()
            process.wait(10)
    return {
        "static_file_req_per_s": static["req_per_s"],
        "home_microcached_req_per_s": micro["req_per_s"],
        "ratio": round(micro["req_per_s"] / static["req_per_s"], 2),
        "static_file": static,
        "home_microcached": micro,
    }


def summary(p: dict) -> str:
    n = p["nginx"]
    if "skipped" in n:
        nginx = n["skipped"]
    else:
        nginx = (
            f"{n['home_microcached_req_per_s']} req/s vs static file "
            f"{n['static_file_req_per_s']} req/s (x{n['ratio']})"
        )
    return (
        f"pages: home warm cache {p['home_cached']['req_per_s']} req/s, x{p['cached_ratio']} "
        f"the bare view ({p['reference_req_per_s']} req/s; target x1.5); uncached "
        f"{p['home_uncached']['req_per_s']} req/s, x{p['uncached_ratio']} "
        f"({p['reference_req_per_s_uncached_run']} req/s; target x0.15); nginx micro-cache "
        f"{nginx}"
    )
