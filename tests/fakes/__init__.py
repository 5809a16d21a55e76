"""Fake vendor services on 127.0.0.1 that the real vendor SDKs can be pointed at."""
