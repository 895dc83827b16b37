"""The edges: translate wire <-> service calls, validate input, check who may do what. No business rules."""
