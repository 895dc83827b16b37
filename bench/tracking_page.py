"""What a complaint's tracking page costs with hostile text in it: `python -m bench.tracking_page`.

    python -m bench.tracking_page                # 10 renders of each page
    python -m bench.tracking_page --renders 50

GET /track/{reference} renders the whole public thread on the event loop, every entry through the
link finder, and anyone holding the link may ask for it as often as they like. In this process, on a
fresh SQLite file, one customer files complaints through the services: the form's body at its longest
(10,000 characters) and, for the longer pages, as many replies at the message limit (4,000
characters) as a customer may write in a row before the team answers. Each text is one kind: plain
words, addresses ("www.a " over and over), an address ending in closing brackets, or addresses cut
by zero-width spaces. Measured: the median time to build the page (the service's view, the page's
values, the template), and the loop-thread CPU of that (time.thread_time). Results are printed and
written to var/bench/tracking-page-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import write_results

FORM_CHARS = 10_000
REPLY_CHARS = 4_000
KINDS = {
    "plain": "lorem ipsum dolor sit amet ",
    "addresses": "www.a ",
    "brackets": None,  # one address, then closing brackets to the end
    "zero-width": "www.\u200b",
}


def text(kind: str, length: int) -> str:
    unit = KINDS[kind]
    if unit is None:
        return "http://a" + ")" * (length - 8)
    return (unit * (length // len(unit) + 1))[:length]


async def measure(renders: int) -> list[dict[str, Any]]:
    from chatserver.config import Settings
    from chatserver.domain.complaints import UNANSWERED_MAX
    from chatserver.services.container import build_services, close_services
    from chatserver.templating import page_templates
    from chatserver.transport.http import tracking_view
    from chatserver.transport.http.widget import catalog

    template = page_templates().get_template("track.html")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        services = await build_services(Settings(db=str(Path(folder) / "track.db")), "bench")
        try:
            customer, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
            for kind in KINDS:
                for replies in (0, UNANSWERED_MAX):
                    filed = await services.complaints.submit_form(
                        customer=customer, category="other", subject="Hostile text", body=text(kind, FORM_CHARS), email=None,
                    )
                    reference = filed["reference"]
                    for _ in range(replies):
                        await services.complaints.customer_reply(customer, reference, text(kind, REPLY_CHARS), None)
                    key = services.complaints.tracking_key(reference)

                    async def page() -> str:
                        view, locale = await services.complaints.track(reference, key)
                        t = catalog(locale)
                        shown = tracking_view.page(view, t, locale, done=None)
                        return template.render(
                            t=t, locale=locale, key=key, lang="", error="", page_error="", draft={}, max_body=REPLY_CHARS,
                            comment_max=2000, languages=[], **shown,
                        )

                    walls, cpus = [], []
                    for _ in range(renders):
                        began, cpu = time.perf_counter(), time.thread_time()
                        html = await page()
                        walls.append(time.perf_counter() - began)
                        cpus.append(time.thread_time() - cpu)
                    results.append({
                        "text": kind, "replies": replies, "page_ms_median": round(statistics.median(walls) * 1000, 2),
                        "loop_cpu_ms_median": round(statistics.median(cpus) * 1000, 2), "bytes": len(html.encode()),
                    })
        finally:
            await close_services(services)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    results = asyncio.run(measure(args.renders))
    print(f"{'text':>11} {'replies':>8} {'page ms':>8} {'loop CPU ms':>12} {'bytes':>9}")
    for r in results:
        print(f"{r['text']:>11} {r['replies']:>8} {r['page_ms_median']:>8} {r['loop_cpu_ms_median']:>12} {r['bytes']:>9}")
    write_results("tracking-page", results)


if __name__ == "__main__":
    main()
