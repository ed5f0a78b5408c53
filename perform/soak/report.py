"""The soak report: the verdict against the targets, and the text printed at the end."""

from __future__ import annotations

from typing import Any

RSS_GROWTH_MAX_PCT = 1.0


def rss_growth_pct(report: dict) -> float | None:
    """The main process's resident memory from the end of the warm-up to the end, in percent."""
    res = report.get("resources", {})
    warm = _rss(res.get("warm", []), "main")
    end = _rss(res.get("end", []), "main")
    return round(100.0 * (end - warm) / warm, 2) if warm and end else None


def rss_growth_later_rounds_pct(report: dict) -> float | None:
    """The main process's resident memory from the first fault that comes round again to the end, in percent:
    the first of each fault raises the allocator's high-water mark once; a leak grows every round. None when
    no fault came round again (or no series)."""
    series = report.get("resources", {}).get("main_rss_series") or []
    seen: set[str] = set()
    again_s = None
    for f in report.get("faults", []):
        if f["name"] in seen:
            again_s = f["at_s"]
            break
        seen.add(f["name"])
    if again_s is None:
        return None
    later = [kb for t, kb in series if t >= again_s and kb]
    return round(100.0 * (later[-1] - later[0]) / later[0], 2) if len(later) >= 2 else None


def _rss(samples: list[dict], role: str) -> int | None:
    return next((s["rss_kb"] for s in samples if s["role"] == role), None)


def verdict(report: dict) -> dict[str, Any]:
    """Each target: crashes 0, hangs 0, every fault recovered in time, memory growth < 1 %, clean exits."""
    faults = report.get("faults", [])
    recovered = sum(1 for f in faults if f["recovered"])
    growth = rss_growth_pct(report)
    exits = report.get("exits", [])
    v = {
        "crashes": 0 if report.get("crash") is None else 1,
        "hangs": len(report.get("hangs", [])),
        "faults_recovered": f"{recovered}/{len(faults)}",
        "not_recovered": sorted({f["name"] for f in faults if not f["recovered"]}),
        "main_rss_growth_pct": growth,
        "exits_clean": f"{sum(1 for e in exits if e.get('clean'))}/{len(exits)}",
    }
    v["pass"] = (v["crashes"] == 0 and v["hangs"] == 0 and recovered == len(faults) and bool(faults)
                 and growth is not None and growth < RSS_GROWTH_MAX_PCT and all(e.get("clean") for e in exits))
    return v


def _resources_table(res: dict) -> list[str]:
    lines = [f"  {'when':<6} {'pid':>7} {'role':<17} {'RSS MB':>8} {'threads':>8} {'files':>6}"]
    for when in ("start", "warm", "end"):
        for s in res.get(when, []):
            lines.append(f"  {when:<6} {s['pid']:>7} {s['role'][:17]:<17} {s['rss_kb'] / 1024:8.1f} "
                         f"{s['threads']:>8} {s['open_files']:>6}")
    return lines


def format_report(report: dict) -> str:
    out = ["", "perform soak: report"]
    if report.get("startup_s") is not None:
        out.append(f"  show ready after {report['startup_s']} s; ran {report.get('ran_s', '?')} s")
    base = report.get("baseline")
    if base:
        out.append(f"  warm-up: {base['frames_per_s']} frames/s, {base['images_per_s']} images/s, "
                   f"{base['frames_missed_per_s']} frames missed/s")
    faults = report.get("faults", [])
    if faults:
        out.append("")
        out.append(f"  {'at s':>7} {'fault':<10} {'recovered':<9} {'in s':>6} {'1st img':>7} {'max gap':>7} "
                   f"{'dropped':>7} {'noticed':<7} problem")
        for f in faults:
            def num(x):
                return f"{x:.2f}" if x is not None else "-"
            out.append(f"  {f['at_s']:7.1f} {f['name']:<10} {'yes' if f['recovered'] else 'NO':<9} "
                       f"{num(f['recovery_s']):>6} {num(f['first_image_s']):>7} {f['longest_image_gap_s']:7.2f} "
                       f"{f['frames_dropped']:>7} {str(f['noticed']).lower():<7} "
                       f"{f['problem'] or ''}{('; ' + f['error']) if f.get('error') else ''}")
    res = report.get("resources")
    if res:
        out.append("")
        out.extend(_resources_table(res))
        series = res.get("main_rss_series") or []
        if series:
            out.append("  main RSS MB over the run: " + ", ".join(f"{kb / 1024:.1f} ({t:g} s)" for t, kb in series if kb))
        later = rss_growth_later_rounds_pct(report)
        if later is not None:
            out.append(f"  main RSS growth from the second round of faults to the end: {later} % (the first of each "
                       "fault raises the allocator's high-water mark once; a leak grows every round)")
    if report.get("crash"):
        c = report["crash"]
        out.append(f"\n  CRASH ({c['when']}): exit status {c['returncode']}; log tail:")
        out.extend("    " + line for line in c["log_tail"].splitlines()[-15:])
    for h in report.get("hangs", []):
        out.append(f"  HANG: status unchanged for {h['length_s']:.1f} s")
    for e in report.get("exits", []):
        if "error" in e:
            out.append(f"  {e['signal']}: {e['error']}")
            continue
        how = f"exit after {e['exit_s']:.2f} s, status {e['returncode']}" if e["exit_s"] is not None else "did not exit"
        extra = (f", children left {e['children_left']}" if e["children_left"] else "") + (
            ", traceback in the log" if e["traceback_after_signal"] else "")
        out.append(f"  {e['signal']} to the {e['sent_to']}: {how}{extra} ({'clean' if e['clean'] else 'NOT clean'})")
    v = report.get("verdict", {})
    if v:
        out.append("")
        out.append(f"  crashes {v['crashes']}, hangs {v['hangs']}, faults recovered {v['faults_recovered']}"
                   + (f" (not: {', '.join(v['not_recovered'])})" if v["not_recovered"] else "")
                   + f", main RSS growth after warm-up {v['main_rss_growth_pct']} %, clean exits {v['exits_clean']}"
                   + (f", tracebacks in the log {report['tracebacks']}" if report.get("tracebacks") else ""))
        out.append(f"  {'PASS' if v['pass'] else 'FAIL'}")
    return "\n".join(out)
