"""What live regions would announce: every node added inside an element with aria-live, role=log,
role=status or role=alert, recorded with its text by a MutationObserver in the page (or frame).

A message announced twice shows up as its text being added twice; a node that is updated in place
(its classes, attributes or the data of its text nodes changed) adds nothing."""

from __future__ import annotations

from playwright.async_api import FrameLocator, Page

RECORD = """() => {
  if (window.__announced) return;
  window.__announced = [];
  const LIVE = '[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="alert"]';
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
      const region = target && target.closest(LIVE);
      if (!region) continue;
      for (const node of record.addedNodes) {
        const text = (node.textContent || '').replace(/\\s+/g, ' ').trim();
        if (text) window.__announced.push({ region: region.id || region.getAttribute('role') || '', text });
      }
    }
  }).observe(document, { childList: true, subtree: true });
}"""

READ = "() => window.__announced.splice(0)"


async def record(where: Page | FrameLocator) -> None:
    """Start recording in the page, or in the document of a frame (the widget's)."""
    await _body(where).evaluate(RECORD)


async def taken(where: Page | FrameLocator, region: str | None = None) -> list[str]:
    """The texts added since the last call (to `region`, an element id, when given), oldest first."""
    entries = await _body(where).evaluate(READ)
    return [entry["text"] for entry in entries if region is None or entry["region"] == region]


def _body(where: Page | FrameLocator):
    return where.locator("body")
