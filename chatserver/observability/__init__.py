"""What operators watch: Prometheus metrics, the event-loop lag probe and structured logs.

Observes the services (their events) and is wired by the transport; imports nothing from the transport.
"""
