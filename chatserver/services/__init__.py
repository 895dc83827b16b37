"""Use cases. Services write through the store, then publish what happened; they never import transport."""
