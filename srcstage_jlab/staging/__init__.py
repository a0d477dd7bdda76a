"""The staging domain: DIDs, lifetimes, collections, jobs and paths. No HTTP, no Jupyter."""
