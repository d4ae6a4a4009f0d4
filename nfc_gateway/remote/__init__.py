"""Remote card operations over the Keyple Distributed JSON API (server side) and the load jobs."""
