"""aiohttp routes: pages, login, health."""
