"""The soak report's memory figures, from a report as the harness writes it (no show needed)."""

from perform.soak.report import format_report, rss_growth_later_rounds_pct


def _report(series_mb, faults):
    fault = {"recovered": True, "recovery_s": 0.2, "first_image_s": 0.1, "longest_image_gap_s": 0.2,
             "frames_dropped": 0, "noticed": True, "problem": None}
    return {"faults": [fault | {"name": n, "at_s": t} for n, t in faults],
            "resources": {"main_rss_series": [(t, int(mb * 1024)) for t, mb in series_mb]}}


def test_growth_is_counted_from_the_first_fault_that_comes_round_again():
    series = [(60, 770.0), (90, 775.0), (120, 777.0), (150, 777.0), (180, 777.7), (210, 777.7)]
    faults = [("flood", 60), ("setlist", 90), ("flood", 120), ("setlist", 150)]
    assert rss_growth_later_rounds_pct(_report(series, faults)) == round(100 * 0.7 / 777.0, 2)
    # one round only: nothing to judge a leak by
    assert rss_growth_later_rounds_pct(_report(series, faults[:2])) is None


def test_the_text_report_shows_the_series_and_the_later_growth():
    series = [(60, 770.0), (120, 780.0), (180, 790.0)]
    r = _report(series, [("kill", 60), ("kill", 120)])
    r["resources"] |= {"start": [], "warm": [], "end": []}
    text = format_report(r)
    assert "770.0 (60 s), 780.0 (120 s), 790.0 (180 s)" in text
    assert f"second round of faults to the end: {round(100 * 10 / 780, 2)} %" in text
