"""Pure rules of the product: no I/O, no asyncio, no imports from other layers."""
