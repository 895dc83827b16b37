"""The tracking link from a complaint's acknowledgement: the status in the customer's language, for that key only."""

import aiohttp

from tests import peers


async def submit(peer, subject):
    ack = await peer.call("complaint:submit", {"category": "withdrawals", "subject": subject, "body": "Pending for a week"})
    assert ack["ok"], ack
    return ack["complaint"]


async def test_the_tracking_link_shows_the_complaint_in_the_customers_language(server):
    anna = await peers.customer(server.url, locale="pl")
    complaint = await submit(anna, "Wypłata <b>W-1</b> {{7*7}}")
    async with aiohttp.ClientSession() as http:
        url = f"{server.url}/track/{complaint['reference']}?key={complaint['tracking_key']}"
        async with http.get(url) as page:
            html = await page.text()
            assert page.status == 200
            assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert f"Reklamacja {complaint['reference']}" in html
        assert '<span class="status-pill status-new">Przyjęta</span>' in html
        assert "Płatności i wypłaty" in html  # the category in Polish
        # the customer sees the support team, as in the widget, not the name of the software
        assert 'aria-hidden="true"></span>Obsługa klienta</div>' in html and "Chatserver</div>" not in html
        # the customer's own words are shown as text: escaped, and no template evaluation
        # (the page also shows times and the key, which may contain "49" by chance: look at the subject only)
        assert '<p class="subject">Wypłata &lt;b&gt;W-1&lt;/b&gt; {{7*7}}</p>' in html and "<b>W-1</b>" not in html
        async with http.get(url + "&lang=ru") as page:
            assert "Жалоба" in await page.text()
    await anna.close()


async def test_a_wrong_key_or_someone_elses_reference_shows_nothing(server):
    anna = await peers.customer(server.url)
    eve = await peers.customer(server.url)
    annas = await submit(anna, "Anna's withdrawal")
    eves = await submit(eve, "Eve's withdrawal")
    async with aiohttp.ClientSession() as http:
        for reference, key in [
            (annas["reference"], "0" * 32),
            (annas["reference"], eves["tracking_key"]),
            (annas["reference"], ""),
            ("C-2026-999999", annas["tracking_key"]),
        ]:
            async with http.get(f"{server.url}/track/{reference}?key={key}") as page:
                html = await page.text()
                assert page.status == 404
                assert "Anna's withdrawal" not in html and annas["reference"] not in html.split("<title>")[0] + html.split("</title>")[-1]
    for peer in (anna, eve):
        await peer.close()
