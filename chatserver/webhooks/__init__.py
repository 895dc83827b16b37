"""Outbound webhooks: signing (pure), target address rules (pure) and the delivery worker.

Like `chatserver.mail`, this package delivers what the store holds; services wire it, never the
other way round.
"""
