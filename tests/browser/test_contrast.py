"""Text on the main views reads against its background: WCAG AA, 4.5:1 for normal text and 3:1 for
large, computed from the styles Chromium applies (colours, background layers, opacity)."""

from __future__ import annotations

import pytest
from playwright.async_api import Frame, Page, expect

from tests import complaint_steps as steps
from tests import peers
from tests.browser import drive

pytestmark = pytest.mark.browser

# Every visible text node's element: its colour, faded by the opacity of it and its ancestors, over the
# background colours behind it. Text over a background image or gradient is left out (not computable here),
# and so is disabled controls' text (WCAG does not ask it to contrast).
LOW_CONTRAST = """() => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const luminance = (c) => {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const found = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true }) || el.closest(':disabled')) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    const style = getComputedStyle(el);
    const layers = [];
    let opacity = 1;
    let image = false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      opacity *= Number(s.opacity);
      if (s.backgroundImage !== 'none') image = true;
      const bg = rgba(s.backgroundColor);
      if (!image && bg[3] > 0 && (!layers.length || layers[layers.length - 1][3] < 1)) layers.push(bg);
    }
    if (image) continue;
    let background = [255, 255, 255, 1];
    for (const layer of layers.reverse()) background = over(layer, background);
    const color = rgba(style.color);
    const fg = over([color[0], color[1], color[2], color[3] * opacity], background);
    const [hi, lo] = [luminance(fg), luminance(background)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) found.push(`${walker.currentNode.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
  }
  return found;
}"""


async def low_contrast(target: Page | Frame) -> list[str]:
    return await target.evaluate(LOW_CONTRAST)


async def test_the_widget_header_and_start_screen_read_against_the_brand_colour(browser, live):
    page = await (await drive.new_context(browser)).new_page()
    frame = await drive.open_widget(page, live.url)
    await expect(frame.locator("#head-status")).not_to_be_empty()
    app = page.frame(url=lambda url: "/widget/frame" in url)
    assert app is not None
    assert await low_contrast(app) == []


async def test_closed_chats_and_settled_complaints_in_the_console_stay_readable(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    customer = await (await drive.new_context(browser)).new_page()
    frame = await drive.open_widget(customer, live.url)
    await drive.start_chat(frame, "Where is my money?", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.locator("#close-chat").click()
    await bob.locator("#close-submit").click()
    await expect(bob.locator("#my-chats .chat-item.is-closed")).to_have_count(1)
    assert await low_contrast(bob) == []

    # a resolved complaint in the list: when it was settled, in place of a due time
    peer = await peers.customer(live.url)
    try:
        await steps.resolved(live.services, peer)
    finally:
        await peer.close()
    await bob.locator("#tab-complaints").click()
    await expect(bob.locator("#cx-rows .cx-due-settled")).not_to_have_count(0)
    assert await low_contrast(bob) == []
