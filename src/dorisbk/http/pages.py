"""The backup status pages: server-rendered HTML with inline CSS, SVG and script, nothing fetched from
elsewhere. Every value from the catalog, a repository or a user is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dorisbk.http.backup_view import JobView, SnapshotView, human_bytes

NAV = (("/", "Jobs"), ("/repositories", "Repositories"), ("/snapshots", "Snapshots"))
STYLE = """
body{font:14px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:10px 20px}header a{color:#cfe3f7;margin-right:16px}
header b{margin-right:24px}main{padding:16px 20px}table{border-collapse:collapse;margin:8px 0 24px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eef2f6}
.bar{width:220px;height:14px;background:#e3e8ee;border-radius:3px;overflow:hidden}
.fill{height:100%;background:#2e86de;transition:width .4s}td.num{text-align:right}
.FINISHED{color:#1e7b34}.CANCELLED{color:#b02a37}.empty{color:#777}
"""
# polls the jobs endpoint every second and moves each running job's bar and text
SCRIPT = """
async function poll(){
  try{
    const r=await fetch('/api/dorisbk/jobs',{credentials:'same-origin'});
    const body=await r.json();
    for(const j of body.data){
      const row=document.getElementById('job-'+j.job_id);
      if(!row)continue;
      const p=j.progress,pct=Math.round(p.fraction*100);
      row.querySelector('.fill').style.width=pct+'%';
      row.dataset.fraction=p.fraction;
      row.querySelector('.state').textContent=j.state;
      row.querySelector('.pct').textContent=p.detail;
      row.querySelector('.dur').textContent=j.duration_s.toFixed(1)+' s';
    }
  }catch(e){}
  setTimeout(poll,1000);
}
poll();
"""


def page(title: str, body: str, script: str = "") -> bytes:
    nav = "".join(f'<a href="{href}">{name}</a>' for href, name in NAV)
    tail = f"<script>{script}</script>" if script else ""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>dorisbk · {escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><header><b>dorisbk</b>{nav}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main>{tail}</body></html>"
    ).encode()


def table(columns: Sequence[str], rows: Sequence[Sequence[object]], row_ids: Sequence[str] | None = None) -> str:
    if not rows:
        return '<p class="empty">none</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        rid = f' id="{escape(row_ids[i])}"' if row_ids else ""
        body.append(f"<tr{rid}>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


class Html(str):
    """Markup of ours, put in a cell as it is."""


def _cell(value: object) -> str:
    if isinstance(value, Html):
        return str(value)
    return "" if value is None else escape(str(value)).replace("\n", "<br>")


def jobs_page(jobs: list[JobView], sizes: dict[tuple[str, str], int | None]) -> bytes:
    """Running jobs with their live bars; then the recent ones with duration and throughput (the snapshot's
    size over the job's duration, when the repository told its size)."""
    running = [j for j in jobs if j.running]
    rows = []
    for j in running:
        pct = round(j.progress.fraction * 100)
        bar = Html(f'<div class="bar"><div class="fill" style="width:{pct}%"></div></div>')
        text = Html(f'<span class="pct">{escape(j.progress.detail)}</span>')
        rows.append((j.job_id, j.type, j.db, j.label, Html(f'<span class="state">{escape(j.state)}</span>'), bar,
                     text, Html(f'<span class="dur">{j.duration_s:.1f} s</span>')))  # fmt: skip
    body = "<h2>Running</h2>" + table(
        ("JobId", "Type", "Database", "Label", "State", "Progress", "", "Duration"),
        rows,
        [f"job-{j.job_id}" for j in running],
    )
    recent = []
    for j in (j for j in jobs if not j.running):
        size = sizes.get((j.repo, j.label))
        rate = human_bytes(size / j.duration_s) + "/s" if size is not None and j.duration_s > 0 else "-"
        recent.append((j.job_id, j.type, j.db, j.label, Html(f'<span class="{j.state}">{escape(j.state)}</span>'),
                       j.create_time, j.finished_time, f"{j.duration_s:.1f} s", human_bytes(size), rate,
                       j.status))  # fmt: skip
    body += "<h2>Recent</h2>" + table(
        ("JobId", "Type", "Database", "Label", "State", "Created", "Finished", "Duration", "Snapshot size",
         "Throughput", "Status"),
        recent,
    )  # fmt: skip
    return page("Backup and restore jobs", body, SCRIPT if running else "")


def repositories_page(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    return page("Repositories", table(columns, rows))


def snapshots_page(snapshots: dict[str, list[SnapshotView]]) -> bytes:
    body = ""
    for repo, views in snapshots.items():
        rows = [(s.label, "\n".join(s.timestamps), s.status, human_bytes(s.size_bytes)) for s in views]
        body += f"<h2>{escape(repo)}</h2>" + size_plot(views)
        body += table(("Snapshot", "Timestamps", "Status", "Size"), rows)
    return page("Snapshots", body or '<p class="empty">no repository</p>')


def size_plot(views: list[SnapshotView], width: int = 640, height: int = 200) -> str:
    """Snapshot size over time (each snapshot at its newest backup), as an inline SVG line plot."""
    points = sorted((s.taken, s.size_bytes, s.label) for s in views if s.taken is not None and s.size_bytes is not None)
    if not points:
        return ""
    pad = 40
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    top = max(p[1] for p in points) or 1

    def x(when: float) -> float:
        return pad + (when - t0) / (t1 - t0) * (width - 2 * pad) if t1 > t0 else width / 2

    def y(size: int) -> float:
        return height - pad - size / top * (height - 2 * pad)

    xy = [(x(t.timestamp()), y(size), label, size) for t, size, label in points]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _l, _s in xy)
    dots = "".join(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#2e86de"><title>{escape(label)}: '
        f"{escape(human_bytes(size))}</title></circle>"
        for px, py, label, size in xy
    )
    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="11">{escape(human_bytes(top))}</text>'
        f'<text x="{pad}" y="{height - pad + 16}" font-size="11">{escape(str(points[0][0]))}</text>'
        f'<text x="{width - pad}" y="{height - pad + 16}" font-size="11" text-anchor="end">'
        f"{escape(str(points[-1][0]))}</text>"
    )
    return (
        f'<svg class="sizes" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="snapshot size over time">{axis}'
        f'<polyline points="{line}" fill="none" stroke="#2e86de" stroke-width="2"/>{dots}</svg>'
    )
